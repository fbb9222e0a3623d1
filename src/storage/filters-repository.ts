// Filters uploaded by clients (client-server § "Filtering", POST /user/{userId}/filter).
// One row per user and filter content: uploading the same filter again returns its ID,
// so clients that upload their filter on every start do not grow the table.

import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export class FiltersRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /**
   * Stores `canonicalJson` for `userId` and returns its filter ID, the existing one when
   * the user uploaded the same filter before. IDs are decimal numbers, so never start with `{`.
   */
  async save(userId: string, canonicalJson: string, now: number): Promise<string> {
    const hash = createHash('sha256').update(canonicalJson, 'utf8').digest('base64url');
    const existing = await this.#idByHash(userId, hash);
    if (existing !== undefined) return existing;
    const { rows } = await sql<{ id: number }>`select nextval('filters_id_seq') as id`.execute(this.#db);
    const id = rows[0]?.id;
    if (id === undefined) throw new Error('nextval returned no row');
    await this.#db
      .insertInto('filters')
      .values({ user_id: userId, filter_id: String(id), json: canonicalJson, json_hash: hash, created_ts: now })
      .onConflict((oc) => oc.columns(['user_id', 'json_hash']).doNothing())
      .execute();
    // A concurrent upload of the same filter may have won the insert: read back the survivor.
    const stored = await this.#idByHash(userId, hash);
    if (stored === undefined) throw new Error('filter row vanished after insert');
    return stored;
  }

  /** The filter JSON as stored, undefined when `userId` has no filter `filterId`. */
  async get(userId: string, filterId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('filters')
      .select('json')
      .where('user_id', '=', userId)
      .where('filter_id', '=', filterId)
      .executeTakeFirst();
    return row?.json;
  }

  async #idByHash(userId: string, hash: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('filters')
      .select('filter_id')
      .where('user_id', '=', userId)
      .where('json_hash', '=', hash)
      .executeTakeFirst();
    return row?.filter_id;
  }
}
