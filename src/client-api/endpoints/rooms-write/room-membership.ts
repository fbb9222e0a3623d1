// Membership changes on behalf of a local user (client-server § "Room membership"): join,
// knock, leave, invite, kick, ban, unban, forget. The auth rules in the roomserver decide
// what is allowed; this file adds what the rules leave to the server — resolving aliases,
// the member's profile in the event, restricted-join authorisation, no-ops for repeated
// requests, the checks the endpoint descriptions list beyond the rules, and handing rooms
// of other servers to the federation side.

import { forbidden, invalidParam, MatrixError, notFound } from '../../../http/matrix-error.ts';
import type { Logger } from '../../../logger.ts';
import { isValidRoomAlias, isValidServerName, parseUserId, serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { roomVersionRules } from '../../../rooms/room-versions.ts';
import type { Roomserver, SetMembershipInput } from '../../../roomserver/index.ts';
import { ForgottenRoomsRepository } from '../../../storage/forgotten-rooms-repository.ts';
import { withRoomErrors } from '../../rooms/errors.ts';
import { currentPowerLevels } from '../../rooms/power.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';
import type { MemberProfiles, RoomsWriteDeps } from './deps.ts';
import type { RemoteRoomMembership } from './remote.ts';

type Membership = SetMembershipInput['membership'];

export interface MembershipRequest {
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly reason: string | undefined;
}

export class RoomMembership {
  readonly #roomserver: Roomserver;
  readonly #aliases: AliasDirectory;
  readonly #profiles: MemberProfiles | undefined;
  readonly #remote: RemoteRoomMembership | undefined;
  readonly #forgotten: ForgottenRoomsRepository;
  readonly #serverName: string;
  readonly #clock: () => number;
  readonly #logger: Logger;

  constructor(deps: RoomsWriteDeps) {
    this.#roomserver = deps.roomserver;
    this.#aliases = deps.aliases;
    this.#profiles = deps.profiles;
    this.#remote = deps.remote;
    this.#forgotten = new ForgottenRoomsRepository(deps.db.kysely);
    this.#serverName = deps.serverName;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** POST /join/{roomIdOrAlias} and /rooms/{roomId}/join. */
  async join(request: MembershipRequest, roomIdOrAlias: string, via: readonly string[]): Promise<string> {
    const target = await this.#resolve(roomIdOrAlias, via);
    const content = { ...(await this.#profileOf(request.userId)), ...reasonOf(request) };
    if (!(await this.#isKnown(target.roomId))) {
      if (this.#remote === undefined) throw notFound('No known servers to join this room through');
      return (await this.#remote.join({ roomId: target.roomId, userId: request.userId, servers: target.servers, content })).roomId;
    }
    const authorisedVia = await this.#restrictedJoinAuthoriser(target.roomId, request.userId);
    await this.#set(request, target.roomId, request.userId, 'join', {
      ...content,
      ...(authorisedVia === undefined ? {} : { join_authorised_via_users_server: authorisedVia }),
    });
    return target.roomId;
  }

  /** POST /knock/{roomIdOrAlias}. */
  async knock(request: MembershipRequest, roomIdOrAlias: string, via: readonly string[]): Promise<string> {
    const target = await this.#resolve(roomIdOrAlias, via);
    const content = { ...(await this.#profileOf(request.userId)), ...reasonOf(request) };
    if (!(await this.#isKnown(target.roomId))) {
      if (this.#remote === undefined) throw notFound('No known servers to knock on this room through');
      return (await this.#remote.knock({ roomId: target.roomId, userId: request.userId, servers: target.servers, content })).roomId;
    }
    // knocking.yaml: "Users who are currently in the room, already invited, or banned cannot knock."
    const current = await this.#roomserver.membership(target.roomId, request.userId);
    if (current === 'join' || current === 'invite' || current === 'ban') {
      throw forbidden(current === 'ban' ? 'You are banned from this room' : `You cannot knock while your membership is ${current}`);
    }
    await this.#set(request, target.roomId, request.userId, 'knock', content);
    return target.roomId;
  }

  /** POST /rooms/{roomId}/leave: also rejects an invite or retracts a knock. */
  async leave(request: MembershipRequest, roomId: string): Promise<void> {
    if (!(await this.#isKnown(roomId))) {
      if (this.#remote === undefined) throw notFound('Unknown room');
      const server = serverNameOf(roomId);
      await this.#remote.leave({
        roomId,
        userId: request.userId,
        servers: server === undefined ? [] : [server],
        content: reasonOf(request),
      });
      return;
    }
    const current = await this.#roomserver.membership(roomId, request.userId);
    // Leaving twice is not an error: the first request may have been lost on its way back.
    if (current === 'leave') return;
    if (current === undefined) throw forbidden('You are not a member of this room');
    await this.#set(request, roomId, request.userId, 'leave', reasonOf(request));
  }

  /** POST /rooms/{roomId}/invite. "Already invited" is a success without a new event. */
  async invite(request: MembershipRequest, roomId: string, target: string): Promise<void> {
    checkUserId(target);
    if (!(await this.#isKnown(roomId))) throw notFound('Unknown room');
    const current = await this.#roomserver.membership(roomId, target);
    if (current === 'invite') return;
    if (current === 'join') throw forbidden(`${target} is already in the room`);
    if (current === 'ban') throw forbidden(`${target} is banned from the room`);
    const content: JsonObject = { membership: 'invite', ...reasonOf(request) };
    if (serverNameOf(target) !== this.#serverName) {
      await this.inviteRemote(roomId, request.userId, target, content);
      return;
    }
    await this.#set(request, roomId, target, 'invite', content);
  }

  /** An invite for a user of another server, which only that server can countersign. */
  async inviteRemote(roomId: string, sender: string, target: string, content: JsonObject): Promise<string> {
    if (this.#remote === undefined) throw forbidden('Inviting users of other servers is not available on this server');
    // The inviter must be allowed to invite before another server is asked to countersign.
    if ((await this.#roomserver.membership(roomId, sender)) !== 'join') throw forbidden('You are not in this room');
    const levels = await currentPowerLevels(this.#roomserver, roomId);
    if (levels !== undefined && levels.userLevel(sender) < levels.invite) throw forbidden('Your power level is too low to invite');
    const { eventId } = await withRoomErrors(() => this.#remote!.invite({ roomId, sender, target, content }));
    return eventId;
  }

  /** POST /rooms/{roomId}/kick: kicking.yaml "The kickee is not currently in the room" → 403. */
  async kick(request: MembershipRequest, roomId: string, target: string): Promise<void> {
    checkUserId(target);
    if (!(await this.#isKnown(roomId))) throw notFound('Unknown room');
    const current = await this.#roomserver.membership(roomId, target);
    if (current !== 'join' && current !== 'invite' && current !== 'knock') throw forbidden(`${target} is not in the room`);
    await this.#set(request, roomId, target, 'leave', reasonOf(request));
  }

  /** POST /rooms/{roomId}/ban. */
  async ban(request: MembershipRequest, roomId: string, target: string): Promise<void> {
    checkUserId(target);
    if (!(await this.#isKnown(roomId))) throw notFound('Unknown room');
    await this.#set(request, roomId, target, 'ban', reasonOf(request));
  }

  /** POST /rooms/{roomId}/unban: only a banned user can be unbanned (otherwise it would be a kick). */
  async unban(request: MembershipRequest, roomId: string, target: string): Promise<void> {
    checkUserId(target);
    if (!(await this.#isKnown(roomId))) throw notFound('Unknown room');
    if ((await this.#roomserver.membership(roomId, target)) !== 'ban') throw forbidden(`${target} is not banned`);
    await this.#set(request, roomId, target, 'leave', reasonOf(request));
  }

  /**
   * POST /rooms/{roomId}/forget. leaving.yaml: 400 M_UNKNOWN while the user is in the room
   * (joined; also invited or knocking, whose membership is still live). A room the user
   * never had a membership in has nothing to forget.
   */
  async forget(userId: string, roomId: string): Promise<void> {
    const member = await this.#roomserver.stateEvent(roomId, 'm.room.member', userId);
    if (member === undefined) return;
    const membership = getField(isJsonObject(member.json['content']) ? member.json['content'] : {}, 'membership');
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      throw new MatrixError(400, 'M_UNKNOWN', `User ${userId} is in room ${roomId}`);
    }
    await this.#forgotten.forget(userId, roomId, member.eventId, this.#clock());
  }

  async #set(request: MembershipRequest, roomId: string, target: string, membership: Membership, content: JsonObject): Promise<void> {
    const { membership: _ignored, ...extraContent } = content;
    await withRoomErrors(() =>
      this.#roomserver.setMembership({ roomId, sender: request.userId, target, membership, extraContent }),
    );
    this.#logger.debug({ roomId, sender: request.userId, target, membership }, 'membership changed');
  }

  async #isKnown(roomId: string): Promise<boolean> {
    return (await this.#roomserver.roomVersion(roomId)) !== undefined;
  }

  async #profileOf(userId: string): Promise<JsonObject> {
    if (this.#profiles === undefined) return {};
    const profile = await this.#profiles.get(userId);
    const fields: JsonObject = {};
    if (typeof profile.displayname === 'string') fields['displayname'] = profile.displayname;
    if (typeof profile.avatar_url === 'string') fields['avatar_url'] = profile.avatar_url;
    return fields;
  }

  /** A room ID as given, or the room an alias points to; plus servers to reach it through. */
  async #resolve(roomIdOrAlias: string, via: readonly string[]): Promise<{ roomId: string; servers: string[] }> {
    for (const server of via) {
      if (!isValidServerName(server)) throw invalidParam(`Invalid server name in via: ${JSON.stringify(server)}`);
    }
    if (roomIdOrAlias.startsWith('#')) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw invalidParam(`Invalid room alias: ${JSON.stringify(roomIdOrAlias)}`);
      const resolved = await this.#aliases.resolve(roomIdOrAlias);
      if (resolved === undefined) throw notFound(`Room alias ${roomIdOrAlias} not found`);
      return { roomId: resolved.roomId, servers: unique([...via, ...resolved.servers]) };
    }
    if (!roomIdOrAlias.startsWith('!') || roomIdOrAlias.length < 2) {
      throw invalidParam(`Not a room ID or alias: ${JSON.stringify(roomIdOrAlias)}`);
    }
    // v1–v11 room IDs name the server that made the room: worth trying last.
    const origin = serverNameOf(roomIdOrAlias);
    return { roomId: roomIdOrAlias, servers: unique([...via, ...(origin !== undefined && isValidServerName(origin) ? [origin] : [])]) };
  }

  /**
   * Restricted rooms (§ "Restricted rooms", v8+ auth rules): a join without an invite must
   * name, in `join_authorised_via_users_server`, a user of this server who may invite, and
   * the joiner must satisfy an allow condition. undefined when no authorisation is needed.
   */
  async #restrictedJoinAuthoriser(roomId: string, userId: string): Promise<string | undefined> {
    const version = await this.#roomserver.roomVersion(roomId);
    const rules = version === undefined ? undefined : roomVersionRules(version);
    if (rules === undefined || !rules.auth.restrictedJoinRule) return undefined;
    const joinRules = await this.#roomserver.stateEvent(roomId, 'm.room.join_rules', '');
    const content = joinRules?.json['content'];
    if (!isJsonObject(content)) return undefined;
    const rule = content['join_rule'];
    const restricted = rule === 'restricted' || (rule === 'knock_restricted' && rules.auth.knockRestrictedJoinRule);
    if (!restricted) return undefined;
    const current = await this.#roomserver.membership(roomId, userId);
    if (current === 'join' || current === 'invite') return undefined;

    const allow = Array.isArray(content['allow']) ? content['allow'] : [];
    let satisfied = false;
    for (const condition of allow) {
      if (!isJsonObject(condition) || condition['type'] !== 'm.room_membership') continue;
      const other = condition['room_id'];
      if (typeof other === 'string' && (await this.#roomserver.membership(other, userId)) === 'join') {
        satisfied = true;
        break;
      }
    }
    if (!satisfied) throw forbidden('You do not satisfy any of the conditions to join this room');

    const levels = await currentPowerLevels(this.#roomserver, roomId);
    for (const member of await this.#roomserver.members(roomId, 'join')) {
      if (serverNameOf(member) !== this.#serverName) continue;
      if (levels === undefined || levels.userLevel(member) >= levels.invite) return member;
    }
    throw forbidden('No user on this server can authorise your join to this restricted room');
  }
}

function reasonOf(request: MembershipRequest): JsonObject {
  return request.reason === undefined ? {} : { reason: request.reason };
}

function checkUserId(userId: string): void {
  if (parseUserId(userId, { historical: true }) === undefined) throw invalidParam(`Invalid user ID: ${JSON.stringify(userId)}`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
