// PUT /_matrix/federation/v1/send_knock/{roomId}/{eventId} (server-server § "Knocking",
// knocks.yaml sendKnock): the signed knock goes through the roomserver's pipeline; the
// answer is the stripped state the knocking user's client shows.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { passOn } from './broadcast.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { assertStored, parseMembershipPdu } from './incoming.ts';
import { roomRules, strippedState } from './room-view.ts';

export function sendKnockEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/federation/v1/send_knock/:roomId/:eventId',
    auth: 'federation',
    body: ANY_JSON_OBJECT,
    operationId: 'sendKnock',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      const eventId = params['eventId'] ?? '';
      const { roomVersion } = await roomRules(deps.roomserver, roomId);
      if (!(await deps.acl.aclAllows(roomId, auth.serverName))) throw forbidden('Server is denied by the room server ACL');
      const pdu = parseMembershipPdu(body, { roomId, eventId, roomVersion, origin: auth.serverName, membership: 'knock' });
      const stored = assertStored(await deps.roomserver.receivePdu(pdu.json, auth.serverName, { roomVersion }));
      await passOn(deps, roomId, stored, auth.serverName);
      return { knock_room_state: await strippedState(deps.roomserver, roomId) };
    },
  });
}
