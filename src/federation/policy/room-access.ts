// What a remote server may see of a room: the room's server ACL (server-server § "Server
// ACLs": denied servers get 403 M_FORBIDDEN on the protected endpoints), whether the server
// has a user in the room at all (the read endpoints answer only servers in the room, as
// Synapse does), and history visibility for servers (client-server § "History visibility",
// "Server behaviour", the one implementation in src/rooms/visibility.ts, applied to a
// server's users as a group).

import { forbidden } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { RoomEvent, Roomserver } from '../../roomserver/index.ts';
import { splitStateKey, type StateMap } from '../../rooms/event-view.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';
import { historyVisibilityOf, isEventVisible, type HistoryVisibility } from '../../rooms/visibility.ts';
import { evaluateServerAcl, parseServerAcl } from '../../rooms/server-acl.ts';

export type RoomReader = Pick<Roomserver, 'event' | 'stateAt' | 'stateEvent' | 'members' | 'roomVersion'>;

export class RoomAccess {
  readonly #rooms: RoomReader;
  readonly #logger: Logger;

  constructor(rooms: RoomReader, logger: Logger) {
    this.#rooms = rooms;
    this.#logger = logger;
  }

  /** Whether the room's current `m.room.server_acl` lets `serverName` take part. */
  async aclAllows(roomId: string, serverName: string): Promise<boolean> {
    const event = await this.#rooms.stateEvent(roomId, 'm.room.server_acl', '');
    const acl = event === undefined ? undefined : parseServerAcl(getField(event.json, 'content'));
    const decision = evaluateServerAcl(acl, serverName);
    if (decision !== 'allow') {
      this.#logger.info({ room_id: roomId, server: serverName, decision }, 'federation refused: room server ACL');
    }
    return decision === 'allow';
  }

  async assertAclAllows(roomId: string, serverName: string): Promise<void> {
    if (!(await this.aclAllows(roomId, serverName))) throw forbidden('Server is denied by the room server ACL');
  }

  /** Whether `serverName` has a joined user in the room now. */
  async hostInRoom(roomId: string, serverName: string): Promise<boolean> {
    const joined = await this.#rooms.members(roomId, 'join');
    return joined.some((userId) => serverNameOf(userId) === serverName);
  }

  /**
   * The checks of every protected read: the room exists here, the ACL allows the server,
   * and the server is in the room. Every refusal is 403 M_FORBIDDEN (an unknown room too,
   * so rooms cannot be probed) and is logged.
   */
  async assertMayReadRoom(roomId: string, serverName: string): Promise<void> {
    if ((await this.#rooms.roomVersion(roomId)) === undefined) {
      this.#logger.info({ room_id: roomId, server: serverName }, 'federation refused: unknown room');
      throw forbidden('Server is not in the room');
    }
    await this.assertAclAllows(roomId, serverName);
    if (!(await this.hostInRoom(roomId, serverName))) {
      this.#logger.info({ room_id: roomId, server: serverName }, 'federation refused: server not in room');
      throw forbidden('Server is not in the room');
    }
  }

  /**
   * History visibility of `event` for `serverName`: the rules for one user
   * (src/rooms/visibility.ts), applied to each of the server's users in the room — the
   * server may see what any of them may. "Joined at any point after the event" is read as
   * "has a user joined now", which is what a server can vouch for.
   */
  async eventVisibleTo(event: RoomEvent, serverName: string): Promise<boolean> {
    const state = await this.#rooms.stateAt(event.eventId, 'before');
    // Outliers have no state here: what we hold of them is their place in auth chains,
    // which a server in the room may see.
    if (state === undefined) return this.hostInRoom(event.roomId, serverName);
    const before = await this.#visibilityIn(state);
    // A history_visibility event is visible if the setting before or after it allows.
    const after = event.type === 'm.room.history_visibility' && event.stateKey === '' ? historyVisibilityOf(getField(event.json, 'content')) : before;
    const members = await this.#membershipsOf(state, serverName);
    // The server's own user's membership event: their membership after it counts too.
    if (event.type === 'm.room.member' && event.stateKey !== undefined && serverNameOf(event.stateKey) === serverName && !members.has(event.stateKey)) {
      members.set(event.stateKey, undefined);
    }
    if (members.size === 0) members.set('', undefined);
    let joinedAfter: boolean | undefined;
    for (const [userId, membership] of members) {
      const membershipAfter = event.type === 'm.room.member' && event.stateKey === userId ? membershipOf(event) : membership;
      const point = { before: { historyVisibility: before, membership }, after: { historyVisibility: after, membership: membershipAfter } };
      if (isEventVisible({ ...point, joinedAfterEvent: false })) return true;
      if (before === 'shared' || after === 'shared') {
        joinedAfter ??= await this.hostInRoom(event.roomId, serverName);
        if (joinedAfter && isEventVisible({ ...point, joinedAfterEvent: true })) return true;
      }
    }
    return false;
  }

  async #visibilityIn(state: StateMap): Promise<HistoryVisibility> {
    for (const [key, eventId] of state) {
      const [type, stateKey] = splitStateKey(key);
      if (type !== 'm.room.history_visibility' || stateKey !== '') continue;
      const event = await this.#rooms.event(eventId, 'stored');
      return historyVisibilityOf(event === undefined ? undefined : getField(event.json, 'content'));
    }
    return 'shared';
  }

  /** The server's users with a member event in `state`, and their membership. */
  async #membershipsOf(state: StateMap, serverName: string): Promise<Map<string, string | undefined>> {
    const memberships = new Map<string, string | undefined>();
    for (const [key, eventId] of state) {
      const [type, stateKey] = splitStateKey(key);
      if (type !== 'm.room.member' || serverNameOf(stateKey) !== serverName) continue;
      const event = await this.#rooms.event(eventId, 'stored');
      memberships.set(stateKey, event === undefined ? undefined : membershipOf(event));
    }
    return memberships;
  }
}

function membershipOf(event: RoomEvent): string | undefined {
  const content = getField(event.json, 'content');
  const membership = isJsonObject(content) ? getField(content, 'membership') : undefined;
  return typeof membership === 'string' ? membership : undefined;
}
