// PUT /_matrix/federation/v2/send_join/{roomId}/{eventId} (server-server § "Joining Rooms",
// joins-v2.yaml sendJoinV2): the signed join goes through the roomserver's pipeline like any
// PDU; when it is accepted, the answer is the room state before it and the auth chain of
// that state and of the join. For a restricted room we add our signature first, as the
// server of `join_authorised_via_users_server`. `omit_members` (partial state) is not
// offered: the full state is always sent, with `members_omitted: false`.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, type JsonObject } from '../../../rooms/json.ts';
import type { RoomVersionRules } from '../../../rooms/room-versions.ts';
import { joinedServers, passOn } from './broadcast.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { addOurSignature } from './event-signatures.ts';
import { assertStored, parseMembershipPdu } from './incoming.ts';
import { pdusOf, roomRules, stateAndAuthChain } from './room-view.ts';

export function sendJoinEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/federation/v2/send_join/:roomId/:eventId',
    auth: 'federation',
    body: ANY_JSON_OBJECT,
    operationId: 'sendJoinV2',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      const eventId = params['eventId'] ?? '';
      const { roomVersion, rules } = await roomRules(deps.roomserver, roomId);
      if (!(await deps.acl.aclAllows(roomId, auth.serverName))) throw forbidden('Server is denied by the room server ACL');
      const pdu = parseMembershipPdu(body, { roomId, eventId, roomVersion, origin: auth.serverName, membership: 'join' });
      const serversBefore = (await joinedServers(deps, roomId)).filter((s) => s !== auth.serverName);

      const json = countersign(pdu.json, pdu.view.content, rules, deps);
      const stored = assertStored(await deps.roomserver.receivePdu(json, auth.serverName, { roomVersion }));
      const before = await deps.roomserver.stateAt(stored, 'before');
      if (before === undefined) throw forbidden('The join is not part of the room');
      const { state, authChain } = await stateAndAuthChain(deps.roomserver, before, [stored]);
      await passOn(deps, roomId, stored, auth.serverName);
      const [event] = await pdusOf(deps.roomserver, [stored]);
      return {
        state,
        auth_chain: authChain,
        ...(event === undefined ? {} : { event }),
        members_omitted: false,
        servers_in_room: serversBefore.includes(deps.serverName) ? serversBefore : [deps.serverName, ...serversBefore],
      };
    },
  });
}

/** Adds our signature when one of our users authorised a restricted join. */
function countersign(json: JsonObject, content: JsonObject, rules: RoomVersionRules, deps: MembershipEndpointDeps): JsonObject {
  const via = getField(content, 'join_authorised_via_users_server');
  if (typeof via !== 'string' || serverNameOf(via) !== deps.serverName) return json;
  return addOurSignature(json, rules, deps.serverName, deps.signingKey);
}
