// Restricted rooms (server-server § "Joining Rooms", "Restricted rooms"; client-server
// § "Restricted rooms"): a join to a `restricted` / `knock_restricted` room by a user who is
// neither invited nor joined is allowed when the user is joined to one of the rooms in the
// join rule's `allow` list, and a user of the resident server who may invite vouches for it
// in `join_authorised_via_users_server`; that server signs the join at send_join.

import { MatrixError, forbidden } from '../../../http/matrix-error.ts';
import { powerLevelsFrom } from '../../../rooms/auth/power-levels.ts';
import type { EventView } from '../../../rooms/event-view.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, isJsonObject } from '../../../rooms/json.ts';
import type { RoomVersionRules } from '../../../rooms/room-versions.ts';
import type { MembershipRoomReader } from './room-view.ts';

export type StateLookup = (type: string, stateKey: string) => EventView | undefined;

/** Whether the room's join rule is one that needs an authorising server for this user. */
export function needsAuthorisingServer(rules: RoomVersionRules, state: StateLookup, userId: string): boolean {
  const joinRule = getField(state('m.room.join_rules', '')?.content ?? {}, 'join_rule');
  const restricted =
    (joinRule === 'restricted' && rules.auth.restrictedJoinRule) ||
    (joinRule === 'knock_restricted' && rules.auth.knockRestrictedJoinRule);
  if (!restricted) return false;
  const membership = getField(state('m.room.member', userId)?.content ?? {}, 'membership');
  return membership !== 'join' && membership !== 'invite';
}

/** The room IDs named by `m.room_membership` conditions of the join rule's `allow`. */
export function allowedRoomIds(state: StateLookup): string[] {
  const allow = getField(state('m.room.join_rules', '')?.content ?? {}, 'allow');
  if (!Array.isArray(allow)) return [];
  return allow.flatMap((entry) => {
    if (!isJsonObject(entry) || entry['type'] !== 'm.room_membership') return [];
    const roomId = entry['room_id'];
    return typeof roomId === 'string' ? [roomId] : [];
  });
}

/**
 * The local user who authorises `userId`'s join, or the spec's error: 400
 * M_UNABLE_TO_AUTHORISE_JOIN when we know none of the allowed rooms, 403 when the user is in
 * none of them, 400 M_UNABLE_TO_GRANT_JOIN when none of our joined users may invite.
 */
export async function authorisingUser(
  rooms: MembershipRoomReader,
  roomId: string,
  rules: RoomVersionRules,
  state: StateLookup,
  userId: string,
  ourServerName: string,
): Promise<string> {
  let knownRoom = false;
  let satisfied = false;
  for (const allowed of allowedRoomIds(state)) {
    if ((await rooms.roomVersion(allowed)) === undefined) continue;
    knownRoom = true;
    if ((await rooms.membership(allowed, userId)) === 'join') {
      satisfied = true;
      break;
    }
  }
  if (!knownRoom) {
    throw new MatrixError(400, 'M_UNABLE_TO_AUTHORISE_JOIN', 'This server knows none of the rooms that grant access');
  }
  if (!satisfied) throw forbidden('You are not in any of the rooms that grant access to this room');
  const levels = powerLevelsFrom(rules, state('m.room.power_levels', ''), state('m.room.create', ''));
  const candidates = (await rooms.members(roomId, 'join'))
    .filter((member) => serverNameOf(member) === ourServerName)
    .filter((member) => levels.userLevel(member) >= levels.invite)
    .sort();
  const chosen = candidates[0];
  if (chosen === undefined) {
    throw new MatrixError(400, 'M_UNABLE_TO_GRANT_JOIN', 'No user of this server can authorise the join');
  }
  return chosen;
}
