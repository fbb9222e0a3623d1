// GET /_matrix/client/v3/rooms/{roomId}/messages (client-server § "Getting events for a room";
// data/api/client-server/message_pagination.yaml): pages through the room's timeline in
// stream order, only what the user may see (history visibility), filtered by a RoomEventFilter.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, missingParam } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { formatRoomEvents } from '../../formatting/format-events.ts';
import { paginate } from '../../pagination/paginate.ts';
import { encodePaginationToken } from '../../pagination/token.ts';
import { timelineAccess } from './access.ts';
import type { RoomsReadDeps } from './deps.ts';
import { senderMemberEvents } from './lazy-members.ts';
import { filterParam, limitParam, roomIdParam, tokenParam } from './params.ts';

/** "Default: 10." */
const DEFAULT_LIMIT = 10;
/** "Servers should … impose a maximum value to avoid resource exhaustion." */
const MAX_LIMIT = 1000;

export function getMessagesEndpoint(deps: RoomsReadDeps): Endpoint {
  const { queries } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/messages',
    auth: 'required',
    operationId: 'getRoomEvents',
    handler: async ({ params, query, auth }) => {
      const roomId = roomIdParam(params);
      const dir = query.get('dir');
      if (dir === null) throw missingParam('dir is required');
      if (dir !== 'b' && dir !== 'f') throw invalidParam('dir must be "b" or "f"');
      const from = tokenParam(query, 'from');
      const to = tokenParam(query, 'to');
      const filter = filterParam(query);
      const limit = limitParam(query, Math.min(filter.limit ?? DEFAULT_LIMIT, MAX_LIMIT), MAX_LIMIT);

      const access = await timelineAccess(queries, roomId, auth.userId);
      // A user who left reads nothing received after they left.
      const ceiling = access.upTo ?? (await queries.roomserver.latestStreamPosition());
      const backward = dir === 'b';
      const start = backward ? Math.min(from ?? ceiling, ceiling) : (from ?? 0);
      const page = await paginate(queries, {
        roomId,
        userId: auth.userId,
        history: access.history,
        direction: backward ? 'backward' : 'forward',
        from: start,
        to: backward ? to : Math.min(to ?? ceiling, ceiling),
        limit,
        filter,
      });
      const now = deps.clock();
      const requester = { userId: auth.userId, deviceId: auth.deviceId };
      const chunk = await formatRoomEvents(queries, roomId, page.events, {
        format: 'client',
        now,
        requester,
        visibility: page.visibility,
        history: access.history,
        ...(deps.aggregations === undefined ? {} : { aggregations: deps.aggregations }),
      });
      const body: JsonObject = {
        start: query.get('from') || encodePaginationToken(start),
        chunk,
      };
      if (!page.exhausted) body['end'] = encodePaginationToken(page.next);
      const first = page.events[0];
      if (filter.lazyLoadMembers && first !== undefined) {
        const state = await queries.roomserver.stateAt(first.eventId, 'after');
        const members = state === undefined ? [] : await senderMemberEvents(queries, state, page.events);
        body['state'] = await formatRoomEvents(queries, roomId, members, { format: 'client', now, requester, history: access.history });
      }
      return body;
    },
  });
}
