// DELETE /_matrix/client/v3/directory/room/{roomAlias} (directory.yaml `deleteRoomAlias`).
//
// Who may delete: the alias's creator, or a joined member who may send
// `m.room.canonical_alias` (Synapse's rule; the spec leaves the access control to servers).
// The spec's note: when the alias is listed in the room's canonical alias event, the server
// may drop it from there; Stoa does when the caller may send that event, and the deletion
// succeeds either way.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden, notFound } from '../../../http/matrix-error.ts';
import type { Logger } from '../../../logger.ts';
import { getField, type JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { currentPowerLevels, maySendState } from '../../rooms/power.ts';
import type { AliasDirectory } from './alias-directory.ts';

export function deleteRoomAliasEndpoint(aliases: AliasDirectory, roomserver: Roomserver): Endpoint {
  return defineEndpoint({
    method: 'DELETE',
    path: '/_matrix/client/v3/directory/room/:roomAlias',
    auth: 'required',
    operationId: 'deleteRoomAlias',
    handler: async ({ params, auth, log }) => {
      const alias = params['roomAlias'] ?? '';
      aliases.checkLocal(alias);
      aliases.checkExclusive(alias, auth.userId);
      const stored = await aliases.find(alias);
      if (stored === undefined) throw notFound(`Room alias ${alias} not found`);
      const canEditState = await mayEditAliases(roomserver, stored.roomId, auth.userId);
      if (stored.creator !== auth.userId && !canEditState) {
        throw forbidden('You may not delete this alias');
      }
      // A concurrent delete of the same alias: the first one answers 200, this one 404.
      if (!(await aliases.delete(alias))) throw notFound(`Room alias ${alias} not found`);
      if (canEditState) await dropFromCanonicalAlias(roomserver, stored.roomId, alias, auth.userId, log);
      return {};
    },
  });
}

async function mayEditAliases(roomserver: Roomserver, roomId: string, userId: string): Promise<boolean> {
  if ((await roomserver.membership(roomId, userId)) !== 'join') return false;
  const levels = await currentPowerLevels(roomserver, roomId);
  return levels !== undefined && maySendState(levels, userId, 'm.room.canonical_alias');
}

async function dropFromCanonicalAlias(roomserver: Roomserver, roomId: string, alias: string, sender: string, log: Logger) {
  const current = await roomserver.stateEvent(roomId, 'm.room.canonical_alias', '');
  const content = current?.json['content'];
  if (content === undefined || typeof content !== 'object' || content === null || Array.isArray(content)) return;
  const updated: JsonObject = { ...content };
  let changed = false;
  if (getField(content, 'alias') === alias) {
    delete updated['alias'];
    changed = true;
  }
  const alt = getField(content, 'alt_aliases');
  if (Array.isArray(alt) && alt.includes(alias)) {
    updated['alt_aliases'] = alt.filter((a) => a !== alias);
    changed = true;
  }
  if (!changed) return;
  try {
    await roomserver.sendEvent({ roomId, sender, type: 'm.room.canonical_alias', stateKey: '', content: updated });
  } catch (err) {
    log.warn({ err, roomId, alias }, 'could not update m.room.canonical_alias after deleting an alias');
  }
}
