// What a remote server may see of a room: the room's server ACL (server-server § "Server
// ACLs": denied servers get 403 M_FORBIDDEN on the protected endpoints), whether the server
// has a user in the room at all (the read endpoints answer only servers in the room, as
// Synapse does), and history visibility for servers (client-server § "History visibility",
// "Server behaviour", applied to a server's users as a group), by the setting at the event:
//   world_readable: every server;
//   shared (and unknown values, which the spec says to read as shared): a server with a
//     user joined at the event, or joined now ("joined the room at any point after");
//   invited: a server with a user joined or invited at the event;
//   joined: a server with a user joined at the event.

import { forbidden } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { RoomEvent, Roomserver } from '../../roomserver/index.ts';
import { splitStateKey, type StateMap } from '../../rooms/event-view.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
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

  /** History visibility of `event` for `serverName` (see the file comment). */
  async eventVisibleTo(event: RoomEvent, serverName: string): Promise<boolean> {
    const state = await this.#rooms.stateAt(event.eventId, 'before');
    // Outliers have no state here: what we hold of them is their place in auth chains,
    // which a server in the room may see.
    if (state === undefined) return this.hostInRoom(event.roomId, serverName);
    const settings = [await this.#visibilityIn(state)];
    // A history_visibility event is visible if the setting before or after it allows.
    if (event.type === 'm.room.history_visibility' && event.stateKey === '') settings.push(visibilityOf(event));
    if (settings.includes('world_readable')) return true;
    const memberships = await this.#membershipsOf(state, serverName);
    // The server's own users' membership events: their membership after the event counts too.
    if (event.type === 'm.room.member' && event.stateKey !== undefined && serverNameOf(event.stateKey) === serverName) {
      const after = getField(getContent(event), 'membership');
      if (typeof after === 'string') memberships.push(after);
    }
    if (memberships.includes('join')) return true;
    if (settings.includes('invited') && memberships.includes('invite')) return true;
    const shared = settings.some((setting) => setting === 'shared' || !KNOWN_VISIBILITY.has(setting));
    return shared && (await this.hostInRoom(event.roomId, serverName));
  }

  async #visibilityIn(state: StateMap): Promise<string> {
    for (const [key, eventId] of state) {
      const [type, stateKey] = splitStateKey(key);
      if (type !== 'm.room.history_visibility' || stateKey !== '') continue;
      const event = await this.#rooms.event(eventId, 'stored');
      return event === undefined ? 'shared' : visibilityOf(event);
    }
    return 'shared';
  }

  async #membershipsOf(state: StateMap, serverName: string): Promise<string[]> {
    const memberships: string[] = [];
    for (const [key, eventId] of state) {
      const [type, stateKey] = splitStateKey(key);
      if (type !== 'm.room.member' || serverNameOf(stateKey) !== serverName) continue;
      const event = await this.#rooms.event(eventId, 'stored');
      const membership = event === undefined ? undefined : getField(getContent(event), 'membership');
      if (typeof membership === 'string') memberships.push(membership);
    }
    return memberships;
  }
}

const KNOWN_VISIBILITY = new Set(['world_readable', 'shared', 'invited', 'joined']);

function getContent(event: RoomEvent): JsonObject {
  const content = getField(event.json, 'content');
  return isJsonObject(content) ? content : {};
}

function visibilityOf(event: RoomEvent): string {
  const value = getField(getContent(event), 'history_visibility');
  return typeof value === 'string' ? value : 'shared';
}
