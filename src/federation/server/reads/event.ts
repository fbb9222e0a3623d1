// GET /_matrix/federation/v1/event/{eventId} (server-server § "Retrieving events",
// events.yaml getEvent): one PDU in a transaction envelope, for a server the room's ACL
// allows and to which history visibility shows the event.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden, notFound } from '../../../http/matrix-error.ts';
import { servableEvent, transactionOf, type ReadDeps } from './common.ts';

export function eventEndpoint(deps: ReadDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/event/:eventId',
    auth: 'federation',
    operationId: 'getEvent',
    handler: async ({ params, auth, log }) => {
      const eventId = params['eventId'] ?? '';
      const event = await servableEvent(deps, eventId);
      if (event === undefined) throw notFound(`Could not find event ${eventId}`);
      await deps.access.assertAclAllows(event.roomId, auth.serverName);
      if (!(await deps.access.eventVisibleTo(event, auth.serverName))) {
        log.info({ server: auth.serverName, event_id: eventId }, 'federation refused: event not visible to server');
        throw forbidden('Server may not see this event');
      }
      return transactionOf(deps, [event.json]);
    },
  });
}
