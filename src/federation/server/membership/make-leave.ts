// GET /_matrix/federation/v1/make_leave/{roomId}/{userId} (server-server § "Leaving Rooms
// (Rejecting Invites)", leaving-v1.yaml makeLeave): a leave template for a user of the
// requesting server, refused when the auth rules would not allow it.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { membershipTemplate, roomRules } from './room-view.ts';

export function makeLeaveEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/make_leave/:roomId/:userId',
    auth: 'federation',
    operationId: 'makeLeave',
    handler: async ({ params, auth }) => {
      const roomId = params['roomId'] ?? '';
      const userId = params['userId'] ?? '';
      if (serverNameOf(userId) !== auth.serverName) throw forbidden('The user is not a user of the requesting server');
      const { roomVersion, rules } = await roomRules(deps.roomserver, roomId);
      if (!(await deps.acl.aclAllows(roomId, auth.serverName))) throw forbidden('Server is denied by the room server ACL');
      const now = (deps.clock ?? Date.now)();
      const template = await membershipTemplate(deps.roomserver, { roomId, rules, userId, content: { membership: 'leave' }, now }, deps.serverName);
      if (!template.auth.allowed) throw forbidden(`You are not allowed to leave this room: ${template.auth.reason}`);
      return { room_version: roomVersion, event: template.event };
    },
  });
}
