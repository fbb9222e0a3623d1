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
/** Events asked of a resident server per backfill request (at least the page's limit). */
const BACKFILL_BATCH = 100;
/** Backfill requests one /messages call may make (a batch may hold only hidden events). */
const MAX_BACKFILL_ROUNDS = 3;

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
      // Forward from the room's start: below backfilled history, whose positions are negative.
      const start = backward ? Math.min(from ?? ceiling, ceiling) : (from ?? Number.MIN_SAFE_INTEGER);
      const pageQuery = {
        roomId,
        userId: auth.userId,
        history: access.history,
        direction: backward ? 'backward' : 'forward',
        from: start,
        to: backward ? to : Math.min(to ?? ceiling, ceiling),
        limit,
        filter,
      } as const;
      let page = await paginate(queries, pageQuery);
      // Past the earliest event held here (a room joined over federation): ask a resident
      // server for earlier history, placed below the timeline, and carry on into it.
      for (let round = 0; backward && to === undefined && page.exhausted && page.events.length < limit && round < MAX_BACKFILL_ROUNDS; round++) {
        if ((await queries.roomserver.backfill(roomId, Math.max(limit, BACKFILL_BATCH))) === 0) break;
        const more = await paginate(queries, { ...pageQuery, from: page.next, limit: limit - page.events.length });
        page = {
          events: [...page.events, ...more.events],
          visibility: new Map([...page.visibility, ...more.visibility]),
          next: more.next,
          exhausted: more.exhausted,
        };
      }
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
