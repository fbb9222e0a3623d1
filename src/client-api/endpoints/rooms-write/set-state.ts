// PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey} (room_state.yaml
// `setRoomStateWithKey`; § "Sending events to a room"). The state key may be left out, with
// or without the trailing slash, and is then `""`.
//
// - Sending the content the current state already has (same sender) returns that event's
//   ID instead of adding a duplicate (Synapse does the same; clients re-send state freely).
// - `m.room.member` goes through the auth rules like /invite, /kick and friends do; an
//   invite for a user of another server must go through that server (federation /invite).
// - `m.room.canonical_alias`: new aliases must be valid (M_INVALID_PARAM) and point at this
//   room (M_BAD_ALIAS); aliases already in the event are not checked again.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { badJson, forbidden, invalidParam } from '../../../http/matrix-error.ts';
import { canonicalJson } from '../../../rooms/canonical-json.ts';
import { isValidRoomAlias, serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { badAlias, withRoomErrors } from '../../rooms/errors.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';
import { checkTypeAndKey } from './create-room-plan.ts';
import type { RoomMembership } from './room-membership.ts';

const MEMBERSHIPS = new Set(['join', 'invite', 'leave', 'ban', 'knock']);

export function setStateEndpoints(roomserver: Roomserver, aliases: AliasDirectory, membership: RoomMembership): Endpoint[] {
  const handle = async (roomId: string, type: string, stateKey: string, content: JsonObject, sender: string) => {
    checkTypeAndKey(type, stateKey, 'path');
    if (type === 'm.room.create') throw forbidden('m.room.create is sent only by /createRoom');
    if (type === 'm.room.member') checkMemberContent(content);
    if (type === 'm.room.canonical_alias') await checkCanonicalAlias(roomserver, aliases, roomId, content);

    const current = await roomserver.stateEvent(roomId, type, stateKey);
    const currentContent = current?.json['content'];
    if (current !== undefined && current.sender === sender && isJsonObject(currentContent) && sameJson(currentContent, content)) {
      return { event_id: current.eventId };
    }
    if (type === 'm.room.member' && content['membership'] === 'invite' && serverNameOf(stateKey) !== aliases.serverName) {
      return { event_id: await membership.inviteRemote(roomId, sender, stateKey, content) };
    }
    const sent = await withRoomErrors(() => roomserver.sendEvent({ roomId, sender, type, stateKey, content }));
    return { event_id: sent.eventId };
  };

  const base = '/_matrix/client/v3/rooms/:roomId/state/:eventType';
  return [
    defineEndpoint({
      method: 'PUT',
      path: `${base}/:stateKey`,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      rateLimit: 'message',
      operationId: 'setRoomStateWithKey',
      handler: ({ params, body, auth }) =>
        handle(params['roomId'] ?? '', params['eventType'] ?? '', params['stateKey'] ?? '', body, auth.userId),
    }),
    // "When an empty string, the trailing slash on this endpoint is optional."
    ...[base, `${base}/`].map((path) =>
      defineEndpoint({
        method: 'PUT',
        path,
        auth: 'required',
        body: ANY_JSON_OBJECT,
        rateLimit: 'message',
        operationId: 'setRoomStateWithKey',
        handler: ({ params, body, auth }) => handle(params['roomId'] ?? '', params['eventType'] ?? '', '', body, auth.userId),
      }),
    ),
  ];
}

function checkMemberContent(content: JsonObject): void {
  const membership = getField(content, 'membership');
  if (typeof membership !== 'string' || !MEMBERSHIPS.has(membership)) {
    throw badJson('content.membership must be one of join, invite, leave, ban, knock');
  }
}

async function checkCanonicalAlias(roomserver: Roomserver, aliases: AliasDirectory, roomId: string, content: JsonObject): Promise<void> {
  const listed = (value: JsonObject | undefined): string[] => {
    if (value === undefined) return [];
    const alias = getField(value, 'alias');
    const alt = getField(value, 'alt_aliases');
    return [...(typeof alias === 'string' ? [alias] : []), ...(Array.isArray(alt) ? alt.filter((a): a is string => typeof a === 'string') : [])];
  };
  const alias = getField(content, 'alias');
  if (alias !== undefined && typeof alias !== 'string') throw invalidParam('alias must be a string');
  const alt = getField(content, 'alt_aliases');
  if (alt !== undefined && (!Array.isArray(alt) || alt.some((a) => typeof a !== 'string'))) {
    throw invalidParam('alt_aliases must be a list of strings');
  }
  const current = await roomserver.stateEvent(roomId, 'm.room.canonical_alias', '');
  const currentContent = current?.json['content'];
  const existing = new Set(listed(isJsonObject(currentContent) ? currentContent : undefined));
  for (const candidate of listed(content)) {
    if (existing.has(candidate)) continue;
    if (!isValidRoomAlias(candidate)) throw invalidParam(`Invalid room alias: ${JSON.stringify(candidate)}`);
    if (!aliases.canResolve(candidate)) continue;
    const resolved = await aliases.resolve(candidate);
    if (resolved === undefined || resolved.roomId !== roomId) {
      throw badAlias(`The alias ${candidate} does not point to this room`);
    }
  }
}

function sameJson(a: JsonObject, b: JsonObject): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    // Content canonical JSON cannot encode (a float) is never what the room already has;
    // the roomserver refuses it with M_BAD_JSON.
    return false;
  }
}
