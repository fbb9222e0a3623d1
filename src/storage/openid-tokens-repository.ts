// OpenID tokens (client-server § "OpenID"): minted for a user, exchanged by a third party at
// the federation `/openid/userinfo` endpoint until they expire.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export class OpenidTokensRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async add(token: string, userId: string, expiresTs: number): Promise<void> {
    await this.#db.insertInto('openid_tokens').values({ token, user_id: userId, expires_ts: expiresTs }).execute();
  }

  /** The token's owner while it is valid at `now`; undefined when unknown or expired. */
  async owner(token: string, now: number): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('openid_tokens')
      .select('user_id')
      .where('token', '=', token)
      .where('expires_ts', '>', now)
      .executeTakeFirst();
    return row?.user_id;
  }

  /** Removes tokens expired at `now`; returns how many. */
  async purgeExpired(now: number): Promise<number> {
    const result = await this.#db.deleteFrom('openid_tokens').where('expires_ts', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
