// GET /_matrix/client/v3/rooms/{roomId}/context/{eventId} (client-server § "Event context";
// data/api/client-server/event_context.yaml): the events just before and after an event the
// user may see, the state at the last event returned, and tokens to paginate on with /messages.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { RoomEvent } from '../../../roomserver/index.ts';
import { filterableOf, matchesRoomEventFilter } from '../../filters/room-event-filter.ts';
import { formatRoomEvents } from '../../formatting/format-events.ts';
import { paginate } from '../../pagination/paginate.ts';
import { encodePaginationToken } from '../../pagination/token.ts';
import { timelineAccess } from './access.ts';
import type { RoomsReadDeps } from './deps.ts';
import { senderMemberEvents } from './lazy-members.ts';
import { eventIdParam, filterParam, limitParam, roomIdParam } from './params.ts';
import { visibleEvent } from './visible-event.ts';

/** "Defaults to 10." */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

export function getContextEndpoint(deps: RoomsReadDeps): Endpoint {
  const { queries } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/context/:eventId',
    auth: 'required',
    operationId: 'getEventContext',
    handler: async ({ params, query, auth }) => {
      const roomId = roomIdParam(params);
      const eventId = eventIdParam(params);
      const filter = filterParam(query);
      const limit = limitParam(query, DEFAULT_LIMIT, MAX_LIMIT);
      const access = await timelineAccess(queries, roomId, auth.userId);
      const { event, visibility } = await visibleEvent(queries, roomId, eventId, auth.userId, access.history);
      const position = event.streamOrdering ?? 0;
      const ceiling = access.upTo ?? (await queries.roomserver.latestStreamPosition());

      // The limit is shared: half before (rounded down), the rest after.
      const beforeLimit = Math.floor(limit / 2);
      const common = { roomId, userId: auth.userId, history: access.history, filter };
      const before = await paginate(queries, { ...common, direction: 'backward', from: position - 1, to: undefined, limit: beforeLimit });
      const after = await paginate(queries, {
        ...common,
        direction: 'forward',
        from: position,
        to: Math.max(position, ceiling),
        limit: limit - beforeLimit,
      });

      const now = deps.clock();
      const requester = { userId: auth.userId, deviceId: auth.deviceId };
      const format = (events: RoomEvent[], facts: typeof before.visibility) =>
        formatRoomEvents(queries, roomId, events, {
          format: 'client',
          now,
          requester,
          visibility: facts,
          history: access.history,
          ...(deps.aggregations === undefined ? {} : { aggregations: deps.aggregations }),
        });

      const last = after.events.at(-1) ?? event;
      const stateMap = (await queries.roomserver.stateAt(last.eventId, 'after')) ?? new Map<string, string>();
      const stateEvents = filter.lazyLoadMembers
        ? await senderMemberEvents(queries, stateMap, [...before.events, event, ...after.events])
        : [...(await queries.events([...stateMap.values()])).values()];
      const state = (await formatRoomEvents(queries, roomId, stateEvents, { format: 'client', now, requester, history: access.history }))
        .filter((json) => matchesRoomEventFilter(filter, filterableOf(json)));

      return {
        start: encodePaginationToken(before.next),
        end: encodePaginationToken(after.next),
        events_before: await format(before.events, before.visibility),
        event: (await format([event], new Map([[event.eventId, visibility]])))[0] ?? {},
        events_after: await format(after.events, after.visibility),
        state,
      };
    },
  });
}
