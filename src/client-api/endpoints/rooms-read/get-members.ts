// GET /_matrix/client/v3/rooms/{roomId}/members (client-server § "Getting events for a room";
// rooms.yaml getMembersByRoom): the m.room.member events of the state the user may read
// (./access.ts), or of the state at the `at` token, filtered by `membership` /
// `not_membership` ("When specified alongside not_membership, the two parameters create an
// 'or' condition").

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { splitStateKey, type StateMap } from '../../../rooms/event-view.ts';
import { getField, isJsonObject } from '../../../rooms/json.ts';
import { formatRoomEvents } from '../../formatting/format-events.ts';
import { stateAccess } from './access.ts';
import type { RoomsReadDeps } from './deps.ts';
import { enumParam, roomIdParam, tokenParam } from './params.ts';
import { readableState } from './readable-state.ts';

const MEMBERSHIPS = ['join', 'invite', 'knock', 'leave', 'ban'] as const;

export function getMembersEndpoint(deps: RoomsReadDeps): Endpoint {
  const { queries } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/members',
    auth: 'required',
    operationId: 'getMembersByRoom',
    handler: async ({ params, query, auth }) => {
      const roomId = roomIdParam(params);
      const at = tokenParam(query, 'at');
      const membership = enumParam(query, 'membership', MEMBERSHIPS);
      const notMembership = enumParam(query, 'not_membership', MEMBERSHIPS);
      const access = await stateAccess(queries, roomId, auth.userId);

      let state: StateMap;
      if (at === undefined) {
        state = await readableState(queries, roomId, access);
      } else {
        // A departed user sees no state from after they left, whatever token they send.
        const position = access.kind === 'departed' ? Math.min(at, access.position) : at;
        state = (await queries.stateAtPosition(roomId, position))?.state ?? new Map();
      }
      const memberIds = [...state].flatMap(([key, eventId]) => (splitStateKey(key)[0] === 'm.room.member' ? [eventId] : []));
      const loaded = await queries.events(memberIds);
      const members = memberIds.flatMap((id) => {
        const event = loaded.get(id);
        if (event === undefined) return [];
        const content = getField(event.json, 'content');
        const value = isJsonObject(content) ? getField(content, 'membership') : undefined;
        const m = typeof value === 'string' ? value : undefined;
        const wanted =
          (membership === undefined && notMembership === undefined) ||
          (membership !== undefined && m === membership) ||
          (notMembership !== undefined && m !== notMembership);
        return wanted ? [event] : [];
      });
      const chunk = await formatRoomEvents(queries, roomId, members, {
        format: 'client',
        now: deps.clock(),
        requester: { userId: auth.userId, deviceId: auth.deviceId },
        history: access.history,
      });
      return { chunk };
    },
  });
}
