// PUT /_matrix/federation/v2/send_leave/{roomId}/{eventId} (server-server § "Leaving Rooms
// (Rejecting Invites)", leaving-v2.yaml sendLeaveV2): the signed leave goes through the
// roomserver's pipeline; the answer is an empty object once it is accepted.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { passOn } from './broadcast.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { assertStored, parseMembershipPdu } from './incoming.ts';
import { roomRules } from './room-view.ts';

export function sendLeaveEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/federation/v2/send_leave/:roomId/:eventId',
    auth: 'federation',
    body: ANY_JSON_OBJECT,
    operationId: 'sendLeaveV2',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      const eventId = params['eventId'] ?? '';
      const { roomVersion } = await roomRules(deps.roomserver, roomId);
      if (!(await deps.acl.aclAllows(roomId, auth.serverName))) throw forbidden('Server is denied by the room server ACL');
      const pdu = parseMembershipPdu(body, { roomId, eventId, roomVersion, origin: auth.serverName, membership: 'leave' });
      const stored = assertStored(await deps.roomserver.receivePdu(pdu.json, auth.serverName, { roomVersion }));
      await passOn(deps, roomId, stored, auth.serverName);
      return {};
    },
  });
}
