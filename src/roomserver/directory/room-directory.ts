// The room directory's reads of local rooms, shared by the Client-Server and federation
// directory endpoints: summaries from current state, a space's children, the published
// rooms, and who may preview a room without being in it (client-server § "Spaces",
// GET /hierarchy: "The server should return any rooms where ...").

import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { PublicRoomsRepository } from '../../storage/public-rooms-repository.ts';
import { ClientReadQueries } from '../queries-client.ts';
import type { Roomserver } from '../roomserver.ts';
import { publicRoomsPage, type PublicRoomsQuery } from './public-rooms.ts';
import { orderSpaceChildren, spaceChildFromEvent, type SpaceChild } from './space-children.ts';
import { SummaryCache } from './summary-cache.ts';
import { SUMMARY_STATE_TYPES, summaryFromState, type RoomSummary } from './summary.ts';

/** Join rules under which anyone may ask to get in (join or knock) without conditions. */
const OPEN_JOIN_RULES: ReadonlySet<string> = new Set(['public', 'knock', 'knock_restricted']);

export class RoomDirectoryQueries {
  readonly #roomserver: Roomserver;
  readonly #reads: ClientReadQueries;
  readonly #repo: PublicRoomsRepository;
  readonly #serverName: string;

  readonly #cache: SummaryCache;

  constructor(roomserver: Roomserver, serverName: string, clock: () => number = Date.now) {
    this.#roomserver = roomserver;
    this.#reads = new ClientReadQueries(roomserver);
    this.#repo = new PublicRoomsRepository(roomserver.database.kysely);
    this.#serverName = serverName;
    this.#cache = new SummaryCache(clock);
    // Lives as long as the roomserver: one subscription per directory, never dropped.
    roomserver.onNewEvent((event) => this.#cache.invalidate(event.roomId));
  }

  get serverName(): string {
    return this.#serverName;
  }

  /** Summaries of the rooms of `roomIds` whose state this server holds (an m.room.create). */
  async summaries(roomIds: readonly string[]): Promise<Map<string, RoomSummary>> {
    const out = new Map<string, RoomSummary>();
    const missing: string[] = [];
    for (const id of new Set(roomIds)) {
      const cached = this.#cache.get(id);
      if (cached === undefined) missing.push(id);
      else out.set(id, cached);
    }
    if (missing.length === 0) return out;
    const generations = new Map(missing.map((id) => [id, this.#cache.generation(id)]));
    for (const summary of await this.#read(missing)) {
      out.set(summary.roomId, summary);
      this.#cache.set(summary, generations.get(summary.roomId) ?? -1);
    }
    return out;
  }

  async #read(ids: readonly string[]): Promise<RoomSummary[]> {
    const [rows, counts, versions] = await Promise.all([
      this.#repo.currentStateOfTypes(ids, SUMMARY_STATE_TYPES),
      this.#repo.joinedMemberCounts(ids),
      this.#repo.roomVersions(ids),
    ]);
    const events = await this.#reads.events(rows.filter((row) => row.stateKey === '').map((row) => row.eventId));
    const contents = new Map<string, Map<string, JsonObject>>();
    for (const row of rows) {
      if (row.stateKey !== '') continue;
      const content = getField(events.get(row.eventId)?.json ?? {}, 'content');
      let room = contents.get(row.roomId);
      if (room === undefined) contents.set(row.roomId, (room = new Map()));
      room.set(row.type, isJsonObject(content) ? content : {});
    }
    const out: RoomSummary[] = [];
    for (const id of ids) {
      const room = contents.get(id);
      if (room === undefined || !room.has('m.room.create')) continue;
      out.push(summaryFromState(id, versions.get(id), counts.get(id) ?? 0, room));
    }
    return out;
  }

  async summary(roomId: string): Promise<RoomSummary | undefined> {
    return (await this.summaries([roomId])).get(roomId);
  }

  /** The space's current children, in the spec's order. */
  async children(roomId: string): Promise<SpaceChild[]> {
    const rows = await this.#repo.currentStateOfTypes([roomId], ['m.space.child']);
    const events = await this.#reads.events(rows.map((row) => row.eventId));
    const children: SpaceChild[] = [];
    for (const row of rows) {
      const event = events.get(row.eventId);
      const child = event === undefined ? undefined : spaceChildFromEvent(event.json);
      if (child !== undefined) children.push(child);
    }
    return orderSpaceChildren(children);
  }

  /** Whether this server is in the room (a local user joined), so its state is current. */
  async isResident(roomId: string): Promise<boolean> {
    return this.#repo.serverJoinedToAny([roomId], this.#serverName);
  }

  async membership(roomId: string, userId: string): Promise<string | undefined> {
    return this.#roomserver.membership(roomId, userId);
  }

  /**
   * Servers to ask about a room this server is not in but the user is invited to or
   * knocking on: the inviter's (or the knock's) server and the room ID's, when it has one.
   */
  async serversForPendingMembership(roomId: string, userId: string): Promise<string[]> {
    const event = await this.#roomserver.stateEvent(roomId, 'm.room.member', userId);
    const content = event === undefined ? undefined : getField(event.json, 'content');
    const membership = isJsonObject(content) ? getField(content, 'membership') : undefined;
    if (event === undefined || (membership !== 'invite' && membership !== 'knock')) return [];
    const servers = new Set<string>();
    const inviter = membership === 'invite' ? serverNameOf(event.sender) : undefined;
    if (inviter !== undefined && inviter !== '') servers.add(inviter);
    const roomServer = serverNameOf(roomId);
    if (roomServer !== undefined && roomServer !== '') servers.add(roomServer);
    servers.delete(this.#serverName);
    return [...servers];
  }

  /**
   * Whether a user (undefined: an anonymous caller) may see the room's summary without
   * being in it: joined or invited (or knocking, for room summaries), a public or knockable
   * join rule, world-readable history, or a restricted join rule whose conditions the user
   * meets (joined to one of the allowed rooms).
   */
  async userMayPreview(summary: RoomSummary, userId: string | undefined): Promise<boolean> {
    if (summary.worldReadable || (summary.joinRule !== undefined && OPEN_JOIN_RULES.has(summary.joinRule))) return true;
    if (userId === undefined) return false;
    const membership = await this.#roomserver.membership(summary.roomId, userId);
    if (membership === 'join' || membership === 'invite') return true;
    if (summary.joinRule === 'restricted') {
      for (const allowed of summary.allowedRoomIds) {
        if ((await this.#roomserver.membership(allowed, userId)) === 'join') return true;
      }
    }
    return false;
  }

  /**
   * Whether another server could peek or join on its users' behalf (server-server
   * § "Spaces": children it cannot are `inaccessible_children`): the open rules above, a
   * user of that server in the room, or in one of a restricted room's allowed rooms.
   */
  async serverMayPreview(summary: RoomSummary, serverName: string): Promise<boolean> {
    if (summary.worldReadable || (summary.joinRule !== undefined && OPEN_JOIN_RULES.has(summary.joinRule))) return true;
    for (const membership of ['join', 'invite']) {
      const users = await this.#roomserver.members(summary.roomId, membership);
      if (users.some((user) => serverNameOf(user) === serverName)) return true;
    }
    if (summary.joinRule === 'restricted') return this.#repo.serverJoinedToAny(summary.allowedRoomIds, serverName);
    return false;
  }

  /**
   * The summaries of the published rooms worth listing: rooms this server is still in, and
   * either joinable or knockable by anyone or world-readable (client-server § "Published
   * room directory": servers MAY leave out invite-only rooms that are not world-readable;
   * Synapse does).
   */
  async publishedSummaries(): Promise<RoomSummary[]> {
    const resident = await this.#repo.roomsJoinedByServer(await this.#repo.publishedRoomIds(), this.#serverName);
    const summaries = await this.summaries([...resident]);
    return [...summaries.values()].filter((s) => s.worldReadable || s.joinRule === undefined || OPEN_JOIN_RULES.has(s.joinRule));
  }

  /** One page of this server's directory (public_rooms_response.yaml). */
  async publicRooms(query: PublicRoomsQuery, thirdPartyNetwork: boolean): Promise<JsonObject> {
    if (thirdPartyNetwork) return { chunk: [], total_room_count_estimate: 0 };
    return publicRoomsPage(await this.publishedSummaries(), query);
  }
}
