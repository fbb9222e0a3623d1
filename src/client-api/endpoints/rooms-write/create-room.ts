// POST /_matrix/client/v3/createRoom (create_room.yaml `createRoom`; § "Creation").
//
// The plan (./create-room-plan.ts) is checked before anything is written; the room, its
// state and the invites of local users are then one roomserver transaction, so an event the
// auth rules refuse (say a power_level_content_override that leaves the creator unable to
// set the name) leaves no half-made room: 400 M_INVALID_ROOM_STATE. The alias is mapped once
// the room ID is known (v12 derives it from the create event), and users of other servers
// are invited over federation last.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { roomInUse } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { EventNotAllowedError, type Roomserver } from '../../../roomserver/index.ts';
import { invalidRoomState, toMatrixError } from '../../rooms/errors.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';
import { planCreateRoom, type CreateRoomRequest } from './create-room-plan.ts';
import type { MemberProfiles, RoomPublisher } from './deps.ts';
import type { RoomMembership } from './room-membership.ts';

const CREATE_ROOM_BODY = jsonBody<CreateRoomRequest & JsonObject>({
  type: 'object',
  properties: {
    visibility: { enum: ['public', 'private'] },
    room_alias_name: { type: 'string' },
    name: { type: 'string' },
    topic: { type: 'string' },
    invite: { type: 'array', items: { type: 'string' } },
    invite_3pid: { type: 'array', items: { type: 'object' } },
    room_version: { type: 'string' },
    creation_content: { type: 'object' },
    initial_state: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string' }, state_key: { type: 'string' }, content: { type: 'object' } },
        required: ['type', 'content'],
      },
    },
    preset: { enum: ['private_chat', 'public_chat', 'trusted_private_chat'] },
    is_direct: { type: 'boolean' },
    power_level_content_override: { type: 'object' },
  },
});

export interface CreateRoomDeps {
  readonly roomserver: Roomserver;
  readonly aliases: AliasDirectory;
  readonly membership: RoomMembership;
  readonly serverName: string;
  readonly profiles: MemberProfiles | undefined;
  readonly publisher: RoomPublisher | undefined;
}

export function createRoomEndpoint(deps: CreateRoomDeps): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/createRoom',
    auth: 'required',
    body: CREATE_ROOM_BODY,
    rateLimit: 'create_room',
    operationId: 'createRoom',
    handler: async ({ body, auth, log }) => {
      const creator = auth.userId;
      const plan = planCreateRoom(body, { creator, serverName: deps.serverName });
      if (plan.alias !== undefined && (await deps.aliases.find(plan.alias)) !== undefined) {
        throw roomInUse(`Room alias ${plan.alias} already taken`);
      }
      if (plan.alias !== undefined) deps.aliases.checkExclusive(plan.alias, creator);
      const profile = deps.profiles === undefined ? {} : await deps.profiles.get(creator);
      let roomId: string;
      try {
        ({ roomId } = await deps.roomserver.createRoom({
          creator,
          roomVersion: plan.roomVersion,
          createContent: plan.createContent,
          creatorMemberContent: { ...profile },
          initialState: plan.initialState,
        }));
      } catch (error) {
        throw error instanceof EventNotAllowedError ? invalidRoomState(error.message) : toMatrixError(error);
      }
      if (plan.alias !== undefined && !(await deps.aliases.create(plan.alias, roomId, creator))) {
        // Taken between the check and now by a concurrent request; the room stays, without it.
        log.warn({ roomId, alias: plan.alias }, 'room alias taken while the room was being created');
      }
      if (plan.publish) await deps.publisher?.setVisibility(roomId, 'public');
      for (const invitee of plan.remoteInvites) {
        try {
          await deps.membership.inviteRemote(roomId, creator, invitee, plan.inviteContent);
        } catch (err) {
          // The room exists; one unreachable server must not turn that into an error.
          log.warn({ err, roomId, invitee }, 'could not invite a user of another server to a new room');
        }
      }
      return { room_id: roomId };
    },
  });
}
