// Users' profiles (client-server API § "Profiles"): one JSON object of fields per user.
//
// A missing row means "never set": the profile service then derives the default display
// name from the localpart. A row whose object lacks `displayname` means the user removed it.
// The whole profile is one object because the spec bounds it as one (64 KiB in total).

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

/** Profile fields as stored: the values are JSON, checked by the service that wrote them. */
export type ProfileFields = { readonly [field: string]: unknown };

export interface StoredProfile {
  readonly fields: ProfileFields;
  readonly updatedTs: number;
}

export class ProfilesRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(userId: string): Promise<StoredProfile | undefined> {
    const row = await this.#db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : { fields: parseFields(row.fields), updatedTs: row.updated_ts };
  }

  /**
   * Read-modify-write of one user's fields under a row lock, so two concurrent edits of
   * different fields both survive. `initial` seeds a user who has no row yet.
   */
  async update(
    userId: string,
    initial: ProfileFields,
    change: (fields: ProfileFields) => ProfileFields,
    now: number,
  ): Promise<{ before: ProfileFields; after: ProfileFields }> {
    return this.#db.transaction().execute(async (trx) => {
      // Insert-if-missing first: `select ... for update` cannot lock a row that does not exist.
      await trx
        .insertInto('profiles')
        .values({ user_id: userId, fields: JSON.stringify(initial), updated_ts: now })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .execute();
      const row = await trx
        .selectFrom('profiles')
        .select('fields')
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const before = parseFields(row.fields);
      const after = change(before);
      await trx
        .updateTable('profiles')
        .set({ fields: JSON.stringify(after), updated_ts: now })
        .where('user_id', '=', userId)
        .execute();
      return { before, after };
    });
  }

  /** Whether a local account exists (profiles of unknown users are 404). */
  async userExists(userId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('users')
      .select(sql<number>`1`.as('one'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  }
}

function parseFields(text: string): ProfileFields {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ProfileFields) : {};
}
