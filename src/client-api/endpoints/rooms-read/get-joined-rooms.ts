// GET /_matrix/client/v3/joined_rooms (client-server § "Room membership";
// list_joined_rooms.yaml getJoinedRooms): "The ID of each room in which the user has
// `joined` membership".

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { RoomsReadDeps } from './deps.ts';

export function getJoinedRoomsEndpoint(deps: RoomsReadDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/joined_rooms',
    auth: 'required',
    operationId: 'getJoinedRooms',
    handler: async ({ auth }) => ({ joined_rooms: await deps.queries.roomserver.roomsForUser(auth.userId, 'join') }),
  });
}
