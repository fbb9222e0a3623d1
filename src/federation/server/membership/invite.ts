// PUT /_matrix/federation/v2/invite/{roomId}/{eventId} (server-server § "Inviting to a
// room", invites-v2.yaml sendInviteV2): a remote user invites one of ours. We check the
// event (an invite for a local user, sent by a user of the requesting server, signed by
// it, in a room version we support), sign it as the invitee's server and hand it back.
// The signed invite is also offered to the roomserver so a room we share shows it.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { badJson, forbidden, MatrixError, notFound } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { roomVersionRules } from '../../../rooms/room-versions.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { addOurSignature, hasRequiredSignatures } from './event-signatures.ts';
import { parseMembershipPdu } from './incoming.ts';

export function inviteEndpoint(deps: MembershipEndpointDeps): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/federation/v2/invite/:roomId/:eventId',
    auth: 'federation',
    body: ANY_JSON_OBJECT,
    operationId: 'sendInviteV2',
    handler: async ({ params, body, auth, log }) => {
      const roomId = params['roomId'] ?? '';
      const eventId = params['eventId'] ?? '';
      const roomVersion = getField(body, 'room_version');
      if (typeof roomVersion !== 'string') throw badJson('room_version is required');
      const rules = roomVersionRules(roomVersion);
      if (rules === undefined) {
        throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${roomVersion} is not supported`, {
          room_version: roomVersion,
        });
      }
      const event = getField(body, 'event');
      if (typeof event !== 'object' || event === null || Array.isArray(event)) throw badJson('event must be an object');
      const pdu = parseMembershipPdu(event, { roomId, eventId, roomVersion, origin: auth.serverName, membership: 'invite' });
      const invitee = pdu.view.stateKey ?? '';
      if (serverNameOf(invitee) !== deps.serverName) throw badJson('The invitee is not a user of this server');
      if (deps.localUserExists !== undefined && !(await deps.localUserExists(invitee))) throw notFound('Unknown user');
      const known = await deps.roomserver.roomVersion(roomId);
      if (known !== undefined && !(await deps.acl.aclAllows(roomId, auth.serverName))) {
        throw forbidden('Server is denied by the room server ACL');
      }
      if (!(await hasRequiredSignatures(pdu.json, rules, deps.remoteKeys))) throw forbidden('The invite is not signed by its sender');

      const signed = addOurSignature(pdu.json, rules, deps.serverName, deps.signingKey);
      try {
        // A room we hold checks the invite against its state; for any other room the
        // invite is all we have, kept with the stripped state the inviting server sent.
        const result =
          known !== undefined
            ? await deps.roomserver.receivePdu(signed, auth.serverName, { roomVersion })
            : await deps.roomserver.receiveOutOfBandMembership({
                event: signed,
                roomVersion,
                origin: auth.serverName,
                strippedState: inviteRoomState(body),
              });
        log.info({ room_id: roomId, event_id: eventId, invitee, outcome: result.outcome }, 'invite received over federation');
      } catch (err) {
        // Signing is what the inviting server asked for; storing is ours to retry later.
        log.warn({ err, room_id: roomId, event_id: eventId }, 'could not store a received invite');
      }
      return { event: signed };
    },
  });
}

/** `invite_room_state` of the request (invites-v2.yaml): the stripped state events that are objects. */
function inviteRoomState(body: JsonObject): JsonObject[] {
  const state = getField(body, 'invite_room_state');
  return Array.isArray(state) ? state.filter(isJsonObject) : [];
}
