// The rooms this server knows, with the version that decides how their events are read.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredRoom {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly creator: string;
  readonly isPublic: boolean;
  readonly createdTs: number;
}

export interface NewRoom {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly creator: string;
  readonly createdTs: number;
}

export class RoomsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Records a room; a room already recorded keeps its row (its version never changes). */
  async insert(room: NewRoom): Promise<void> {
    await this.#db
      .insertInto('rooms')
      .values({
        room_id: room.roomId,
        room_version: room.roomVersion,
        creator: room.creator,
        created_ts: room.createdTs,
      })
      .onConflict((oc) => oc.column('room_id').doNothing())
      .execute();
  }

  async byId(roomId: string): Promise<StoredRoom | undefined> {
    const row = await this.#db.selectFrom('rooms').selectAll().where('room_id', '=', roomId).executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          roomId: row.room_id,
          roomVersion: row.room_version,
          creator: row.creator,
          isPublic: row.is_public,
          createdTs: row.created_ts,
        };
  }

  /** Lists the room in the published room directory, or removes it (§ "Published room directory"). */
  async setPublic(roomId: string, isPublic: boolean): Promise<void> {
    await this.#db.updateTable('rooms').set({ is_public: isPublic }).where('room_id', '=', roomId).execute();
  }

  async roomVersion(roomId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('rooms')
      .select('room_version')
      .where('room_id', '=', roomId)
      .executeTakeFirst();
    return row?.room_version;
  }
}
