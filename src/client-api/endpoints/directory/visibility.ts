// GET and PUT /_matrix/client/v3/directory/list/room/{roomId} (list_public_rooms.yaml
// `getRoomVisibilityOnDirectory`, `setRoomVisibilityOnDirectory`; client-server
// § "Published room directory").
//
// Who may publish: the spec leaves it to servers ("for instance ... the room creator or a
// server administrator"). Stoa follows Synapse: a server administrator, or a joined member
// who may send `m.room.canonical_alias` (by default moderators and up).

import { defineEndpoint, ANY_JSON_OBJECT, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden, invalidParam, notFound } from '../../../http/matrix-error.ts';
import { getField } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { AccountsRepository } from '../../../storage/index.ts';
import type { RoomsRepository } from '../../../storage/rooms-repository.ts';
import { currentPowerLevels, maySendState } from '../../rooms/power.ts';

const PATH = '/_matrix/client/v3/directory/list/room/:roomId';

export interface VisibilityDeps {
  readonly rooms: Pick<RoomsRepository, 'byId' | 'setPublic'>;
  readonly accounts: Pick<AccountsRepository, 'findUser'>;
  readonly roomserver: Roomserver;
}

export function getRoomVisibilityEndpoint(deps: VisibilityDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: PATH,
    auth: 'none',
    operationId: 'getRoomVisibilityOnDirectory',
    handler: async ({ params }) => {
      const room = await deps.rooms.byId(params['roomId'] ?? '');
      if (room === undefined) throw notFound('Room not found');
      return { visibility: room.isPublic ? 'public' : 'private' };
    },
  });
}

export function setRoomVisibilityEndpoint(deps: VisibilityDeps): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: PATH,
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'setRoomVisibilityOnDirectory',
    handler: async ({ params, auth, body }) => {
      const roomId = params['roomId'] ?? '';
      const visibility = getField(body, 'visibility') ?? 'public';
      if (visibility !== 'public' && visibility !== 'private') throw invalidParam('visibility must be "public" or "private"');
      const room = await deps.rooms.byId(roomId);
      if (room === undefined) throw notFound('Room not found');
      if (!(await mayChangeListing(deps, roomId, auth.userId))) {
        throw forbidden('You may not change this room\'s visibility in the published room directory');
      }
      if (room.isPublic !== (visibility === 'public')) await deps.rooms.setPublic(roomId, visibility === 'public');
      return {};
    },
  });
}

async function mayChangeListing(deps: VisibilityDeps, roomId: string, userId: string): Promise<boolean> {
  if ((await deps.accounts.findUser(userId))?.isAdmin === true) return true;
  if ((await deps.roomserver.membership(roomId, userId)) !== 'join') return false;
  const levels = await currentPowerLevels(deps.roomserver, roomId);
  return levels !== undefined && maySendState(levels, userId, 'm.room.canonical_alias');
}
