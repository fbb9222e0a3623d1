// The client side of membership over federation (server-server § "Joining Rooms",
// "Leaving Rooms (Rejecting Invites)", "Knocking", "Inviting to a room"): a local user
// joins, knocks on or leaves a room this server is not in by asking a resident server for
// a template (make_*), filling and signing it, and sending it back (send_*); the servers
// are tried in order until one answers. An invite of a user of another server is built
// here on our view of the room, countersigned by the invitee's server, then stored.

import { randomBytes } from 'node:crypto';
import { signEvent } from '../../crypto/event-signing.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import { MatrixError, forbidden } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { parsePdu } from '../../rooms/pdu/parse.ts';
import { roomVersionRules, type RoomVersionRules } from '../../rooms/room-versions.ts';
import { RemoteJoinError, type Roomserver } from '../../roomserver/index.ts';
import { FederationRequestError, RemoteMatrixError } from '../client/errors.ts';
import type { FederationClient } from '../client/federation-client.ts';
import { membershipTemplate, strippedState } from '../server/membership/room-view.ts';

export type MembershipClient = Pick<FederationClient, 'get' | 'put'>;

export type RemoteMembershipRooms = Pick<
  Roomserver,
  | 'joinRemoteRoom'
  | 'receivePdu'
  | 'receiveOutOfBandMembership'
  | 'roomVersion'
  | 'forwardExtremities'
  | 'event'
  | 'events'
  | 'stateEvent'
  | 'stateAt'
  | 'authChain'
  | 'members'
  | 'membership'
  | 'currentState'
>;

export interface RemoteMembershipDeps {
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly client: MembershipClient;
  readonly roomserver: RemoteMembershipRooms;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Room versions we can join (the `ver` of make_join / make_knock). Default 1–12. */
  readonly roomVersions?: readonly string[];
}

/** The shapes the client API's extension point (`RemoteRoomMembership`) passes. */
export interface RemoteMembershipRequest {
  readonly roomId: string;
  readonly userId: string;
  /** Servers to try, best first. */
  readonly servers: readonly string[];
  /** Member event content beyond `membership` (displayname, avatar_url, reason). */
  readonly content: JsonObject;
}

export interface RemoteInviteRequest {
  readonly roomId: string;
  readonly sender: string;
  readonly target: string;
  readonly content: JsonObject;
}

const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

/**
 * Errors after which another resident server may well answer differently: it cannot reach
 * us or the room, or cannot authorise a restricted join (server-server § "Joining Rooms").
 */
const TRY_NEXT_ERRCODES = new Set(['M_UNABLE_TO_AUTHORISE_JOIN', 'M_UNABLE_TO_GRANT_JOIN', 'M_NOT_FOUND']);

type MembershipKind = 'join' | 'leave' | 'knock';

const MAKE_PATH: Record<MembershipKind, string> = {
  join: '/_matrix/federation/v1/make_join',
  leave: '/_matrix/federation/v1/make_leave',
  knock: '/_matrix/federation/v1/make_knock',
};
const SEND_PATH: Record<MembershipKind, string> = {
  join: '/_matrix/federation/v2/send_join',
  leave: '/_matrix/federation/v2/send_leave',
  knock: '/_matrix/federation/v1/send_knock',
};

interface Handshake {
  readonly server: string;
  readonly roomVersion: string;
  readonly rules: RoomVersionRules;
  readonly event: JsonObject;
  readonly eventId: string;
  readonly response: JsonObject;
}

export class RemoteMembership {
  readonly #deps: RemoteMembershipDeps;
  readonly #clock: () => number;
  readonly #versions: readonly string[];

  constructor(deps: RemoteMembershipDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#versions = deps.roomVersions ?? ALL_VERSIONS;
  }

  /** make_join + send_join through `servers`; the room is joined here when this resolves. */
  async join(request: RemoteMembershipRequest): Promise<{ roomId: string; eventId: string }> {
    return this.#through(request, async (server) => {
      const done = await this.#handshake('join', server, request);
      const state = getField(done.response, 'state');
      const authChain = getField(done.response, 'auth_chain');
      if (!Array.isArray(state) || !Array.isArray(authChain)) throw new RemoteJoinError(`${server} sent no state or auth_chain`);
      // A restricted join comes back with the authorising server's signature added.
      const returned = getField(done.response, 'event');
      const joinEvent = isJsonObject(returned) && this.#eventIdOf(returned, done.roomVersion) === done.eventId ? returned : done.event;
      const joined = await this.#deps.roomserver.joinRemoteRoom({
        roomId: request.roomId,
        roomVersion: done.roomVersion,
        origin: server,
        joinEvent,
        state,
        authChain,
      });
      this.#deps.logger.info({ room_id: request.roomId, user_id: request.userId, via: server }, 'joined a room over federation');
      return { roomId: request.roomId, eventId: joined.eventId };
    });
  }

  /** make_knock + send_knock; returns the stripped state the resident server sent. */
  async knock(request: RemoteMembershipRequest): Promise<{ roomId: string; eventId: string; knockRoomState: JsonObject[] }> {
    return this.#through(request, async (server) => {
      const done = await this.#handshake('knock', server, request);
      const state = getField(done.response, 'knock_room_state');
      const knockRoomState = Array.isArray(state) ? state.filter(isJsonObject) : [];
      await this.#storeOwnEvent(done, knockRoomState);
      return { roomId: request.roomId, eventId: done.eventId, knockRoomState };
    });
  }

  /** make_leave + send_leave: rejects an invite, retracts a knock, or leaves a room not held here. */
  async leave(request: RemoteMembershipRequest): Promise<void> {
    await this.#through(request, async (server) => {
      const done = await this.#handshake('leave', server, request);
      await this.#storeOwnEvent(done);
    });
  }

  acceptInvite(request: RemoteMembershipRequest): Promise<{ roomId: string; eventId: string }> {
    return this.join(request);
  }

  rejectInvite(request: RemoteMembershipRequest): Promise<void> {
    return this.leave(request);
  }

  /**
   * PUT /_matrix/federation/v2/invite to the invitee's server: the invite is built on our
   * view of the room and signed by us, countersigned there, then enters the room here (the
   * sender passes it on to the room's other servers).
   */
  async invite(request: RemoteInviteRequest): Promise<{ eventId: string }> {
    const target = serverNameOf(request.target);
    if (target === undefined) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user ID');
    const roomVersion = await this.#deps.roomserver.roomVersion(request.roomId);
    const rules = roomVersion === undefined ? undefined : roomVersionRules(roomVersion);
    if (roomVersion === undefined || rules === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const template = await membershipTemplate(
      this.#deps.roomserver,
      {
        roomId: request.roomId,
        rules,
        userId: request.target,
        sender: request.sender,
        content: { ...request.content, membership: 'invite' },
        now: this.#clock(),
      },
      this.#deps.serverName,
    );
    if (!template.auth.allowed) throw forbidden(`You are not allowed to invite: ${template.auth.reason}`);
    const event = this.#sign(template.event, rules);
    const eventId = this.#eventIdOf(event, roomVersion);
    if (eventId === undefined) throw new MatrixError(500, 'M_UNKNOWN', 'Could not build the invite');
    let response: JsonObject;
    try {
      response = await this.#deps.client.put(
        target,
        `/_matrix/federation/v2/invite/${encodeURIComponent(request.roomId)}/${encodeURIComponent(eventId)}`,
        { room_version: roomVersion, event, invite_room_state: await strippedState(this.#deps.roomserver, request.roomId) },
      );
    } catch (err) {
      throw asClientError(err, 'invite');
    }
    const signed = getField(response, 'event');
    if (!isJsonObject(signed) || this.#eventIdOf(signed, roomVersion) !== eventId) {
      throw new MatrixError(502, 'M_UNKNOWN', `${target} returned an invalid invite`);
    }
    const result = await this.#deps.roomserver.receivePdu(signed, this.#deps.serverName, { roomVersion });
    if (result.outcome !== 'accepted' && result.outcome !== 'duplicate') {
      throw forbidden(`The invite was not accepted: ${result.reason ?? result.outcome}`);
    }
    return { eventId };
  }

  /** Tries `servers` in order (ours excluded, duplicates dropped) until `attempt` succeeds. */
  async #through<T>(request: RemoteMembershipRequest, attempt: (server: string) => Promise<T>): Promise<T> {
    const candidates = [...request.servers, ...(await this.#inviterServer(request)), ...fallbackServer(request.roomId)];
    const servers = [...new Set(candidates)].filter((s) => s !== this.#deps.serverName);
    if (servers.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', 'No known servers to reach this room through');
    let last: unknown;
    for (const server of servers) {
      try {
        return await attempt(server);
      } catch (err) {
        last = err;
        this.#deps.logger.info({ room_id: request.roomId, server, err: describe(err) }, 'membership handshake failed; trying the next server');
        if (err instanceof RemoteMatrixError && err.status >= 400 && err.status < 500 && !TRY_NEXT_ERRCODES.has(err.errcode ?? '')) {
          break;
        }
      }
    }
    throw asClientError(last, 'membership');
  }

  async #handshake(kind: MembershipKind, server: string, request: RemoteMembershipRequest): Promise<Handshake> {
    const path = `${MAKE_PATH[kind]}/${encodeURIComponent(request.roomId)}/${encodeURIComponent(request.userId)}`;
    const made = await this.#deps.client.get(server, path, kind === 'leave' ? undefined : { ver: [...this.#versions] });
    const roomVersion = getField(made, 'room_version');
    const template = getField(made, 'event');
    const rules = typeof roomVersion === 'string' && this.#versions.includes(roomVersion) ? roomVersionRules(roomVersion) : undefined;
    if (typeof roomVersion !== 'string' || rules === undefined) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${String(roomVersion)} is not supported`, {
        room_version: String(roomVersion),
      });
    }
    if (!isJsonObject(template)) throw new RemoteJoinError(`${server} sent no event template`);
    const event = this.#fill(template, rules, kind, request);
    const eventId = this.#eventIdOf(event, roomVersion);
    if (eventId === undefined) throw new RemoteJoinError(`${server} sent an unusable event template`);
    const response = await this.#deps.client.put(
      server,
      `${SEND_PATH[kind]}/${encodeURIComponent(request.roomId)}/${encodeURIComponent(eventId)}`,
      event,
    );
    return { server, roomVersion, rules, event, eventId, response };
  }

  /** The template with our fields checked and set, hashed and signed. */
  #fill(template: JsonObject, rules: RoomVersionRules, kind: MembershipKind, request: RemoteMembershipRequest): JsonObject {
    if (
      template['type'] !== 'm.room.member' ||
      template['state_key'] !== request.userId ||
      template['sender'] !== request.userId ||
      (template['room_id'] !== undefined && template['room_id'] !== request.roomId)
    ) {
      throw new RemoteJoinError('the event template is not for this user and room');
    }
    const templateContent = getField(template, 'content');
    const base = isJsonObject(templateContent) ? templateContent : {};
    const content: JsonObject = { ...request.content, membership: kind };
    // Kept from the template: the resident's choice of authorising user for a restricted join.
    const via = getField(base, 'join_authorised_via_users_server');
    if (kind === 'join' && typeof via === 'string') content['join_authorised_via_users_server'] = via;
    // The sent event names its own server as `origin` (knocks.yaml send_knock: "the knocking homeserver").
    const event: JsonObject = { ...template, room_id: request.roomId, content, origin: this.#deps.serverName, origin_server_ts: this.#clock() };
    delete event['signatures'];
    delete event['hashes'];
    delete event['unsigned'];
    return this.#sign(event, rules);
  }

  #sign(event: JsonObject, rules: RoomVersionRules): JsonObject {
    const withId: JsonObject = { ...event };
    if (rules.format.requireEventIdField) withId['event_id'] = `$${randomBytes(12).toString('base64url')}:${this.#deps.serverName}`;
    else delete withId['event_id'];
    return signEvent(withId, this.#deps.serverName, this.#deps.signingKey, rules);
  }

  #eventIdOf(event: JsonObject, roomVersion: string): string | undefined {
    const parsed = parsePdu({ raw: event, roomVersion });
    return parsed.ok ? parsed.pdu.eventId : undefined;
  }

  /**
   * The server of whoever invited the user, when we hold an invite for a room we are not
   * in: it is in the room, and v12 room IDs name no server to fall back on.
   */
  async #inviterServer(request: RemoteMembershipRequest): Promise<string[]> {
    const own = await this.#deps.roomserver.stateEvent(request.roomId, 'm.room.member', request.userId);
    if (own === undefined || membershipOf(own.json) !== 'invite') return [];
    const server = serverNameOf(own.sender);
    return server === undefined ? [] : [server];
  }

  /**
   * A knock or leave we sent through a resident server. In a room we hold it goes through
   * the roomserver as usual; otherwise a knock, or a leave that rejects an invite or
   * retracts a knock held here, is kept as an out-of-band membership so /sync shows it.
   */
  async #storeOwnEvent(done: Handshake, knockRoomState?: readonly JsonObject[]): Promise<void> {
    const roomId = roomIdOfEvent(done.event);
    const { roomserver } = this.#deps;
    if ((await roomserver.roomVersion(roomId)) !== undefined) {
      await roomserver.receivePdu(done.event, done.server, { roomVersion: done.roomVersion });
      return;
    }
    const userId = getField(done.event, 'state_key');
    const held = typeof userId === 'string' ? await roomserver.membership(roomId, userId) : undefined;
    if (membershipOf(done.event) === 'leave' && held === undefined) return;
    const result = await roomserver.receiveOutOfBandMembership({
      event: done.event,
      roomVersion: done.roomVersion,
      origin: done.server,
      ...(knockRoomState === undefined ? {} : { strippedState: knockRoomState }),
    });
    if (result.outcome === 'dropped') this.#deps.logger.warn({ room_id: roomId, reason: result.reason }, 'could not keep our membership event');
  }
}

function membershipOf(event: JsonObject): unknown {
  const content = getField(event, 'content');
  return isJsonObject(content) ? getField(content, 'membership') : undefined;
}

function roomIdOfEvent(event: JsonObject): string {
  const roomId = getField(event, 'room_id');
  return typeof roomId === 'string' ? roomId : '';
}

/** v1–v11 room IDs name the server that created the room: the last server to try. */
function fallbackServer(roomId: string): string[] {
  const server = serverNameOf(roomId);
  return server === undefined || server === '' ? [] : [server];
}

/** What the client sees when no server let us in: the last server's Matrix error, or 502. */
function asClientError(err: unknown, what: string): unknown {
  if (err instanceof MatrixError) return err;
  if (err instanceof RemoteMatrixError && err.status >= 400 && err.status < 500 && err.errcode !== undefined) {
    const message = getField(err.body ?? {}, 'error');
    return new MatrixError(err.status, err.errcode, typeof message === 'string' ? message : err.message, extraOf(err.body));
  }
  // A server we could not reach, a response we could not use, a template we could not sign.
  const reason = err instanceof FederationRequestError || err instanceof Error ? err.message : String(err);
  return new MatrixError(502, 'M_UNKNOWN', `The ${what} could not be completed: ${reason}`);
}

function extraOf(body: JsonObject | undefined): JsonObject {
  if (body === undefined) return {};
  const { errcode: _errcode, error: _error, ...rest } = body;
  return rest;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
