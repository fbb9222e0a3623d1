// GET /_matrix/federation/v1/make_knock/{roomId}/{userId} (server-server § "Knocking",
// knocks.yaml makeKnock): a knock template; `ver` is required and the room's version must
// be among it and support knocking (v7+), else 400 M_INCOMPATIBLE_ROOM_VERSION.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden, MatrixError, missingParam } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { assertVersionSupported, membershipTemplate, roomRules } from './room-view.ts';

export function makeKnockEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/make_knock/:roomId/:userId',
    auth: 'federation',
    operationId: 'makeKnock',
    handler: async ({ params, query, auth }) => {
      const roomId = params['roomId'] ?? '';
      const userId = params['userId'] ?? '';
      if (serverNameOf(userId) !== auth.serverName) throw forbidden('The user is not a user of the requesting server');
      if (query.getAll('ver').length === 0) throw missingParam('The ver parameter is required');
      const { roomVersion, rules } = await roomRules(deps.roomserver, roomId);
      if (!(await deps.acl.aclAllows(roomId, auth.serverName))) throw forbidden('Server is denied by the room server ACL');
      assertVersionSupported(roomVersion, query, []);
      if (!rules.auth.knocking) {
        throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${roomVersion} does not support knocking`, {
          room_version: roomVersion,
        });
      }
      const now = (deps.clock ?? Date.now)();
      const template = await membershipTemplate(deps.roomserver, { roomId, rules, userId, content: { membership: 'knock' }, now }, deps.serverName);
      if (!template.auth.allowed) throw forbidden(`You are not allowed to knock on this room: ${template.auth.reason}`);
      return { room_version: roomVersion, event: template.event };
    },
  });
}
