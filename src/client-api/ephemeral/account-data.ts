// Account data (client-server API § "Client Config"), global or per room, and the room tags
// kept in it as room account data `m.tag` (§ "Room Tagging"). Each write advances the
// account-data stream (`account_data_stream_seq`), which /sync reads as its `a` stream.

import { MatrixError, forbidden, invalidParam } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import {
  AccountDataRepository,
  GLOBAL_ACCOUNT_DATA_ROOM,
  type StoredAccountData,
} from '../../storage/account-data-repository.ts';
import type { AccountDataChanges, AccountDataEntry, AccountDataSource } from '../sync/sources.ts';
import { SerialWriter, StreamPosition } from './stream-position.ts';

export const FULLY_READ = 'm.fully_read';
export const PUSH_RULES = 'm.push_rules';
export const TAGS = 'm.tag';
/**
 * § "Client Config" Server Behaviour: types the server manages, refused on PUT with 405
 * M_BAD_JSON (global and per room alike). Servers must still let clients read them.
 */
const SERVER_MANAGED_TYPES: ReadonlySet<string> = new Set([FULLY_READ, PUSH_RULES]);
/** § "Room Tagging": "The name of a tag MUST NOT exceed 255 bytes." */
export const MAX_TAG_BYTES = 255;
const ROOM_ID = /^!.+$/;

export class AccountDataService extends StreamPosition implements AccountDataSource {
  readonly #repo: AccountDataRepository;
  readonly #writer = new SerialWriter(this);
  readonly #ready: Promise<void>;

  constructor(options: { readonly db: StoaDatabase }) {
    super('a');
    this.#repo = new AccountDataRepository(options.db.kysely);
    this.#ready = this.#repo.maxStreamId().then((max) => this.advanceTo(max));
    // Callers await it and see the error; this only keeps it from being an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** A client's PUT: only for the requester themselves, never a server-managed type. */
  async putByClient(requester: string, userId: string, roomId: string | undefined, type: string, content: JsonObject): Promise<void> {
    checkOwner(requester, userId);
    if (roomId !== undefined) checkRoomId(roomId);
    if (SERVER_MANAGED_TYPES.has(type)) {
      throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API`);
    }
    await this.set(userId, roomId, type, content);
  }

  /** A client's GET: only the requester's own account data. */
  async getByClient(requester: string, userId: string, roomId: string | undefined, type: string): Promise<JsonObject | undefined> {
    checkOwner(requester, userId);
    if (roomId !== undefined) checkRoomId(roomId);
    return this.get(userId, roomId, type);
  }

  /** Server-side write (read markers, push rules, tags); returns the new stream position. */
  async set(userId: string, roomId: string | undefined, type: string, content: JsonObject): Promise<number> {
    await this.#ready;
    return this.#writer.run(async () => {
      const position = await this.#repo.upsert(userId, roomId ?? GLOBAL_ACCOUNT_DATA_ROOM, type, JSON.stringify(content));
      this.advanceTo(position, { users: [userId] });
      return position;
    });
  }

  async get(userId: string, roomId: string | undefined, type: string): Promise<JsonObject | undefined> {
    const stored = await this.#repo.find(userId, roomId ?? GLOBAL_ACCOUNT_DATA_ROOM, type);
    return stored === undefined ? undefined : parseContent(stored.content);
  }

  async accountDataSince(userId: string, from: number, to: number): Promise<AccountDataChanges> {
    await this.#ready;
    const global: AccountDataEntry[] = [];
    const rooms = new Map<string, AccountDataEntry[]>();
    for (const row of await this.#repo.changedForUser(userId, from, to)) {
      const entry = toEntry(row);
      if (row.roomId === GLOBAL_ACCOUNT_DATA_ROOM) {
        global.push(entry);
      } else {
        const list = rooms.get(row.roomId);
        if (list === undefined) rooms.set(row.roomId, [entry]);
        else list.push(entry);
      }
    }
    return { global, rooms };
  }

  // --- tags (§ "Room Tagging"), stored as the room's `m.tag` account data -----------------

  /** `{tag: {order?}}` for a room; `{}` when it has none. */
  async tags(requester: string, userId: string, roomId: string): Promise<JsonObject> {
    checkOwner(requester, userId);
    checkRoomId(roomId);
    return tagsOf(await this.get(userId, roomId, TAGS));
  }

  async setTag(requester: string, userId: string, roomId: string, tag: string, data: JsonObject): Promise<void> {
    checkOwner(requester, userId);
    checkRoomId(roomId);
    if (tag === '' || new TextEncoder().encode(tag).length > MAX_TAG_BYTES) {
      throw invalidParam(`Tag names are 1 to ${MAX_TAG_BYTES} bytes long`);
    }
    await this.#updateTags(userId, roomId, (tags) => ({ ...tags, [tag]: data }));
  }

  async deleteTag(requester: string, userId: string, roomId: string, tag: string): Promise<void> {
    checkOwner(requester, userId);
    checkRoomId(roomId);
    await this.#updateTags(userId, roomId, (tags) => Object.fromEntries(Object.entries(tags).filter(([t]) => t !== tag)));
  }

  async #updateTags(userId: string, roomId: string, change: (tags: JsonObject) => JsonObject): Promise<void> {
    await this.#ready;
    // Read and write in the one writer queue, so two tag edits cannot lose each other.
    await this.#writer.run(async () => {
      const stored = await this.#repo.find(userId, roomId, TAGS);
      const tags = tagsOf(stored === undefined ? undefined : parseContent(stored.content));
      const position = await this.#repo.upsert(userId, roomId, TAGS, JSON.stringify({ tags: change(tags) }));
      this.advanceTo(position, { users: [userId] });
    });
  }
}

function checkOwner(requester: string, userId: string): void {
  if (requester !== userId) throw forbidden('Cannot access account data of another user');
}

function checkRoomId(roomId: string): void {
  if (!ROOM_ID.test(roomId)) throw invalidParam(`Invalid room ID: ${roomId}`);
}

function tagsOf(content: JsonObject | undefined): JsonObject {
  const tags = content?.['tags'];
  return isJsonObject(tags) ? tags : {};
}

function toEntry(row: StoredAccountData): AccountDataEntry {
  return { type: row.type, content: parseContent(row.content) };
}

function parseContent(text: string): JsonObject {
  const value: unknown = JSON.parse(text);
  return isJsonObject(value) ? (value as JsonObject) : {};
}
