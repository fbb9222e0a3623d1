// GET /_matrix/client/v3/rooms/{roomId}/state (client-server § "Getting events for a room";
// rooms.yaml getRoomState): the current state for members (and anyone, in a world_readable
// room), the state when they left for users who left.

import { defineEndpoint, HttpResponse, type Endpoint } from '../../../http/define-endpoint.ts';
import { formatRoomEvents } from '../../formatting/format-events.ts';
import { stateAccess } from './access.ts';
import type { RoomsReadDeps } from './deps.ts';
import { roomIdParam } from './params.ts';
import { readableState } from './readable-state.ts';

export function getStateEndpoint(deps: RoomsReadDeps): Endpoint {
  const { queries } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/state',
    auth: 'required',
    operationId: 'getRoomState',
    handler: async ({ params, auth }) => {
      const roomId = roomIdParam(params);
      const access = await stateAccess(queries, roomId, auth.userId);
      const state = await readableState(queries, roomId, access);
      const loaded = await queries.events([...state.values()]);
      const events = [...state.values()].flatMap((id) => {
        const event = loaded.get(id);
        return event === undefined ? [] : [event];
      });
      const formatted = await formatRoomEvents(queries, roomId, events, {
        format: 'client',
        now: deps.clock(),
        requester: { userId: auth.userId, deviceId: auth.deviceId },
        history: access.history,
      });
      // The response is a JSON array, which the JSON-object result type does not cover.
      return new HttpResponse(200, JSON.stringify(formatted), 'application/json');
    },
  });
}
