// GET /_matrix/client/v3/rooms/{roomId}/event/{eventId} (client-server § "Getting events for
// a room"; rooms.yaml getOneRoomEvent): "You must have permission to retrieve this event";
// 404 when it is unknown or outside what the user may see.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { notFound } from '../../../http/matrix-error.ts';
import { formatRoomEvents } from '../../formatting/format-events.ts';
import type { RoomsReadDeps } from './deps.ts';
import { eventIdParam, roomIdParam } from './params.ts';
import { visibleEvent } from './visible-event.ts';

export function getEventEndpoint(deps: RoomsReadDeps): Endpoint {
  const { queries } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/event/:eventId',
    auth: 'required',
    operationId: 'getOneRoomEvent',
    handler: async ({ params, auth }) => {
      const roomId = roomIdParam(params);
      const eventId = eventIdParam(params);
      // No membership gate: the visibility rules alone decide (a world_readable event is
      // readable by anyone), and every refusal is the same 404.
      const history = await queries.membershipHistory(roomId, auth.userId);
      const { event, visibility } = await visibleEvent(queries, roomId, eventId, auth.userId, history);
      const [formatted] = await formatRoomEvents(queries, roomId, [event], {
        format: 'client',
        now: deps.clock(),
        requester: { userId: auth.userId, deviceId: auth.deviceId },
        visibility: new Map([[eventId, visibility]]),
        history,
        ...(deps.aggregations === undefined ? {} : { aggregations: deps.aggregations }),
      });
      if (formatted === undefined) throw notFound('Event not found');
      return formatted;
    },
  });
}
