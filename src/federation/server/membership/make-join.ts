// GET /_matrix/federation/v1/make_join/{roomId}/{userId} (server-server § "Joining Rooms",
// joins-v1.yaml makeJoin): a join event template built on our view of the room, refused
// when the room version is not among `ver` or the auth rules would not allow the join.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { authorisingUser, needsAuthorisingServer } from './restricted.ts';
import { assertVersionSupported, membershipTemplate, roomRules } from './room-view.ts';

export function makeJoinEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/make_join/:roomId/:userId',
    auth: 'federation',
    operationId: 'makeJoin',
    handler: async ({ params, query, auth }) => {
      const roomId = params['roomId'] ?? '';
      const userId = params['userId'] ?? '';
      if (serverNameOf(userId) !== auth.serverName) throw forbidden('The user is not a user of the requesting server');
      const { roomVersion, rules } = await roomRules(deps.roomserver, roomId);
      if (!(await deps.acl.aclAllows(roomId, auth.serverName))) throw forbidden('Server is denied by the room server ACL');
      // "If not provided, the room version is assumed to be either "1" or "2"."
      assertVersionSupported(roomVersion, query, ['1', '2']);
      const now = (deps.clock ?? Date.now)();
      const plain = await membershipTemplate(deps.roomserver, { roomId, rules, userId, content: { membership: 'join' }, now }, deps.serverName);
      let template = plain;
      if (needsAuthorisingServer(rules, plain.state, userId)) {
        const authoriser = await authorisingUser(deps.roomserver, roomId, rules, plain.state, userId, deps.serverName);
        const content: JsonObject = { membership: 'join', join_authorised_via_users_server: authoriser };
        template = await membershipTemplate(deps.roomserver, { roomId, rules, userId, content, now }, deps.serverName);
      }
      if (!template.auth.allowed) throw forbidden(`You are not allowed to join this room: ${template.auth.reason}`);
      return { room_version: roomVersion, event: template.event };
    },
  });
}
