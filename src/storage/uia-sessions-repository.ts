// User-interactive authentication sessions (client-server API § "User-Interactive
// Authentication API"). The engine in src/client-api/auth decides; this file stores.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

/** What the engine records per session: plain JSON, written and read back as is. */
export type UiaSessionData = { readonly [key: string]: unknown };

export interface StoredUiaSession {
  readonly sessionId: string;
  readonly operation: string;
  readonly userId: string | null;
  readonly completed: readonly string[];
  readonly data: UiaSessionData;
  readonly createdTs: number;
  readonly expiresTs: number;
}

export class UiaSessionsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(session: StoredUiaSession): Promise<void> {
    await this.#db
      .insertInto('uia_sessions')
      .values({
        session_id: session.sessionId,
        operation: session.operation,
        user_id: session.userId,
        completed: JSON.stringify(session.completed),
        data: JSON.stringify(session.data),
        created_ts: session.createdTs,
        expires_ts: session.expiresTs,
      })
      .execute();
  }

  /** The session, unless it does not exist or expired before `now`. */
  async find(sessionId: string, now: number): Promise<StoredUiaSession | undefined> {
    const row = await this.#db
      .selectFrom('uia_sessions')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('expires_ts', '>', now)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      sessionId: row.session_id,
      operation: row.operation,
      userId: row.user_id,
      completed: JSON.parse(row.completed) as string[],
      data: JSON.parse(row.data) as UiaSessionData,
      createdTs: row.created_ts,
      expiresTs: row.expires_ts,
    };
  }

  async update(sessionId: string, changes: { userId: string | null; completed: readonly string[]; data: UiaSessionData }): Promise<void> {
    await this.#db
      .updateTable('uia_sessions')
      .set({ user_id: changes.userId, completed: JSON.stringify(changes.completed), data: JSON.stringify(changes.data) })
      .where('session_id', '=', sessionId)
      .execute();
  }

  async delete(sessionId: string): Promise<void> {
    await this.#db.deleteFrom('uia_sessions').where('session_id', '=', sessionId).execute();
  }

  async deleteExpired(now: number): Promise<void> {
    await this.#db.deleteFrom('uia_sessions').where('expires_ts', '<=', now).execute();
  }
}
