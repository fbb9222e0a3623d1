// GET /_matrix/federation/v1/event_auth/{roomId}/{eventId} (server-server § "Retrieving
// event authorisation information", event_auth.yaml getEventAuth): the full auth chain of
// an event, for a server in the room.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { eventOfRoom, servableEvents, type ReadDeps } from './common.ts';

export function eventAuthEndpoint(deps: ReadDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/event_auth/:roomId/:eventId',
    auth: 'federation',
    operationId: 'getEventAuth',
    handler: async ({ params, auth }) => {
      const roomId = params['roomId'] ?? '';
      const eventId = params['eventId'] ?? '';
      await deps.access.assertMayReadRoom(roomId, auth.serverName);
      await eventOfRoom(deps, roomId, eventId);
      const chain = await servableEvents(deps, await deps.rooms.authChain([eventId]));
      return { auth_chain: chain.map((e) => e.json) };
    },
  });
}
