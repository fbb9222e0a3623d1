// Room aliases this server hosts (client-server § "Room aliases", `directory.yaml`): a
// mapping from `#alias:our.server` to a room ID, with who made it (the creator may delete it).

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredAlias {
  readonly alias: string;
  readonly roomId: string;
  readonly creator: string;
  readonly createdTs: number;
}

export class AliasesRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Maps `alias` to a room; false when the alias is already taken (by any room). */
  async create(alias: StoredAlias): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('room_aliases')
      .values({ room_alias: alias.alias, room_id: alias.roomId, creator: alias.creator, created_ts: alias.createdTs })
      .onConflict((oc) => oc.column('room_alias').doNothing())
      .returning('room_alias')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async find(alias: string): Promise<StoredAlias | undefined> {
    const row = await this.#db.selectFrom('room_aliases').selectAll().where('room_alias', '=', alias).executeTakeFirst();
    return row === undefined
      ? undefined
      : { alias: row.room_alias, roomId: row.room_id, creator: row.creator, createdTs: row.created_ts };
  }

  /** Removes the mapping; false when there was none. */
  async delete(alias: string): Promise<boolean> {
    const deleted = await this.#db.deleteFrom('room_aliases').where('room_alias', '=', alias).returning('room_alias').executeTakeFirst();
    return deleted !== undefined;
  }

  /** The aliases pointing at `roomId`, oldest first. */
  async aliasesOf(roomId: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('room_aliases')
      .select('room_alias')
      .where('room_id', '=', roomId)
      .orderBy('created_ts')
      .orderBy('room_alias')
      .execute();
    return rows.map((r) => r.room_alias);
  }
}
