// Single sign-on state (migration 0017): pending redirects to a provider, keyed by the OAuth
// `state` and spent by the callback, and the links from a provider's subject to a local user.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface PendingSsoLogin {
  readonly state: string;
  readonly idpId: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** Set for a login: where the browser goes with the login token. */
  readonly redirectUrl: string | null;
  /** Set for user-interactive auth: the session the sign-on completes a stage of. */
  readonly uiaSessionId: string | null;
  readonly createdTs: number;
  readonly expiresTs: number;
}

export class SsoRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertPending(login: PendingSsoLogin): Promise<void> {
    await this.#db
      .insertInto('sso_pending_logins')
      .values({
        state: login.state,
        idp_id: login.idpId,
        nonce: login.nonce,
        code_verifier: login.codeVerifier,
        redirect_url: login.redirectUrl,
        uia_session_id: login.uiaSessionId,
        created_ts: login.createdTs,
        expires_ts: login.expiresTs,
      })
      .execute();
  }

  /** Deletes the pending login and returns it when it had not expired at `now`: a state works once. */
  async consumePending(state: string, now: number): Promise<PendingSsoLogin | undefined> {
    const row = await this.#db.deleteFrom('sso_pending_logins').where('state', '=', state).returningAll().executeTakeFirst();
    if (row === undefined || row.expires_ts <= now) return undefined;
    return {
      state: row.state,
      idpId: row.idp_id,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      redirectUrl: row.redirect_url,
      uiaSessionId: row.uia_session_id,
      createdTs: row.created_ts,
      expiresTs: row.expires_ts,
    };
  }

  async deleteExpiredPending(now: number): Promise<void> {
    await this.#db.deleteFrom('sso_pending_logins').where('expires_ts', '<=', now).execute();
  }

  async findLinkedUser(idpId: string, subject: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('sso_user_links')
      .select('user_id')
      .where('idp_id', '=', idpId)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row?.user_id;
  }

  /** Links `subject` to `userId`; false when the subject was linked meanwhile (a concurrent first login). */
  async link(link: { idpId: string; subject: string; userId: string; createdTs: number }): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('sso_user_links')
      .values({ idp_id: link.idpId, subject: link.subject, user_id: link.userId, created_ts: link.createdTs })
      .onConflict((oc) => oc.columns(['idp_id', 'subject']).doNothing())
      .returning('user_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** The providers `userId` signs in with (for offering m.login.sso in user-interactive auth). */
  async linkedProviders(userId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('sso_user_links').select('idp_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.idp_id);
  }
}
