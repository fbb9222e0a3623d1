// What the room directory and space summaries read in bulk (client-server § "Published room
// directory", § "Spaces"): which rooms are published, the current state events of a few
// types across many rooms, and joined-member counts. One query each, however many rooms.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface CurrentStateRow {
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string;
  readonly eventId: string;
}

/** Rooms are read in slices so one statement never binds an unbounded list. */
const SLICE = 500;

export class PublicRoomsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The rooms listed in this server's published room directory. */
  async publishedRoomIds(): Promise<string[]> {
    const rows = await this.#db.selectFrom('rooms').select('room_id').where('is_public', '=', true).orderBy('room_id').execute();
    return rows.map((row) => row.room_id);
  }

  /** The version of each room of `roomIds` this server knows. */
  async roomVersions(roomIds: readonly string[]): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    for (let i = 0; i < roomIds.length; i += SLICE) {
      const slice = roomIds.slice(i, i + SLICE);
      if (slice.length === 0) continue;
      const rows = await this.#db.selectFrom('rooms').select(['room_id', 'room_version']).where('room_id', 'in', slice).execute();
      for (const row of rows) versions.set(row.room_id, row.room_version);
    }
    return versions;
  }

  /** The current state entries of `types` (every state key) in `roomIds`. */
  async currentStateOfTypes(roomIds: readonly string[], types: readonly string[]): Promise<CurrentStateRow[]> {
    if (types.length === 0) return [];
    const out: CurrentStateRow[] = [];
    for (let i = 0; i < roomIds.length; i += SLICE) {
      const slice = roomIds.slice(i, i + SLICE);
      if (slice.length === 0) continue;
      const rows = await this.#db
        .selectFrom('current_state')
        .select(['room_id', 'type', 'state_key', 'event_id'])
        .where('room_id', 'in', slice)
        .where('type', 'in', [...types])
        .execute();
      for (const row of rows) out.push({ roomId: row.room_id, type: row.type, stateKey: row.state_key, eventId: row.event_id });
    }
    return out;
  }

  /** Joined members per room; rooms without any are absent. */
  async joinedMemberCounts(roomIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let i = 0; i < roomIds.length; i += SLICE) {
      const slice = roomIds.slice(i, i + SLICE);
      if (slice.length === 0) continue;
      const rows = await this.#db
        .selectFrom('current_state')
        .select(['room_id'])
        .select((eb) => eb.fn.countAll<string | number | bigint>().as('joined'))
        .where('room_id', 'in', slice)
        .where('type', '=', 'm.room.member')
        .where('membership', '=', 'join')
        .groupBy('room_id')
        .execute();
      for (const row of rows) counts.set(row.room_id, Number(row.joined));
    }
    return counts;
  }

  /** Which of `roomIds` have a user of `serverName` joined. */
  async roomsJoinedByServer(roomIds: readonly string[], serverName: string): Promise<Set<string>> {
    const joined = new Set<string>();
    for (let i = 0; i < roomIds.length; i += SLICE) {
      const slice = roomIds.slice(i, i + SLICE);
      if (slice.length === 0) continue;
      const rows = await this.#db
        .selectFrom('current_state')
        .select('room_id')
        .distinct()
        .where('room_id', 'in', slice)
        .where('type', '=', 'm.room.member')
        .where('membership', '=', 'join')
        .where('state_key', 'like', `%:${escapeLike(serverName)}`)
        .execute();
      for (const row of rows) joined.add(row.room_id);
    }
    return joined;
  }

  /** Whether a user of `serverName` (`@…:serverName`) is joined to any of `roomIds`. */
  async serverJoinedToAny(roomIds: readonly string[], serverName: string): Promise<boolean> {
    if (roomIds.length === 0) return false;
    const row = await this.#db
      .selectFrom('current_state')
      .select('room_id')
      .where('room_id', 'in', [...roomIds])
      .where('type', '=', 'm.room.member')
      .where('membership', '=', 'join')
      .where('state_key', 'like', `%:${escapeLike(serverName)}`)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
