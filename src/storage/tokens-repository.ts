// Access, refresh and login tokens, each stored as a hash of the token (the caller hashes):
// the tables never hold a usable credential, and a lookup by hash is an index probe whose
// timing does not depend on how much of a guessed token is right.
//
// Refresh rotation (client-server API § "Refreshing access tokens"): using refresh token R1
// issues R2 with an access token A2, and records R1.next_token_id = R2. R1 stays usable
// until R2 or A2 is first used; then R1 (and the access tokens it issued) are revoked.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredAccessToken {
  readonly userId: string;
  readonly deviceId: string;
  readonly expiresTs: number | null;
  readonly refreshTokenId: number | null;
  readonly used: boolean;
  readonly isGuest: boolean;
  readonly deactivated: boolean;
}

export interface NewAccessToken {
  readonly tokenHash: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly createdTs: number;
  readonly expiresTs: number | null;
  readonly refreshTokenId: number | null;
}

export interface StoredRefreshToken {
  readonly id: number;
  readonly userId: string;
  readonly deviceId: string;
  readonly nextTokenId: number | null;
}

export class TokensRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  // --- Access tokens ------------------------------------------------------------------------

  async insertAccessToken(token: NewAccessToken): Promise<void> {
    await this.#db
      .insertInto('access_tokens')
      .values({
        token_hash: token.tokenHash,
        user_id: token.userId,
        device_id: token.deviceId,
        created_ts: token.createdTs,
        expires_ts: token.expiresTs,
        refresh_token_id: token.refreshTokenId,
      })
      .execute();
  }

  async findAccessToken(tokenHash: string): Promise<StoredAccessToken | undefined> {
    const row = await this.#db
      .selectFrom('access_tokens')
      .innerJoin('users', 'users.user_id', 'access_tokens.user_id')
      .select([
        'access_tokens.user_id',
        'access_tokens.device_id',
        'access_tokens.expires_ts',
        'access_tokens.refresh_token_id',
        'access_tokens.used',
        'users.is_guest',
        'users.deactivated',
      ])
      .where('access_tokens.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          userId: row.user_id,
          deviceId: row.device_id,
          expiresTs: row.expires_ts,
          refreshTokenId: row.refresh_token_id,
          used: row.used,
          isGuest: row.is_guest,
          deactivated: row.deactivated,
        };
  }

  /**
   * Records the first use of an access token issued by a refresh: revokes the refresh token
   * that the token's own refresh token replaced. No-op for tokens already marked used.
   */
  async markAccessTokenUsed(tokenHash: string, refreshTokenId: number | null): Promise<void> {
    const marked = await this.#db
      .updateTable('access_tokens')
      .set({ used: true })
      .where('token_hash', '=', tokenHash)
      .where('used', '=', false)
      .returning('token_hash')
      .executeTakeFirst();
    if (marked !== undefined && refreshTokenId !== null) await this.revokeRefreshTokensReplacedBy(refreshTokenId);
  }

  async deleteAccessToken(tokenHash: string): Promise<void> {
    await this.#db.deleteFrom('access_tokens').where('token_hash', '=', tokenHash).execute();
  }

  /** Logs a device out without deleting it (its access and refresh tokens go). */
  async deleteTokensOfDevice(userId: string, deviceId: string): Promise<void> {
    await this.#db.deleteFrom('access_tokens').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
    await this.#db.deleteFrom('refresh_tokens').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
  }

  /** Deletes every access, refresh and login token of `userId`. */
  async deleteAllTokensOfUser(userId: string): Promise<void> {
    await this.#db.deleteFrom('access_tokens').where('user_id', '=', userId).execute();
    await this.#db.deleteFrom('refresh_tokens').where('user_id', '=', userId).execute();
    await this.#db.deleteFrom('login_tokens').where('user_id', '=', userId).execute();
  }

  // --- Refresh tokens -----------------------------------------------------------------------

  async insertRefreshToken(token: { tokenHash: string; userId: string; deviceId: string; createdTs: number }): Promise<number> {
    const row = await this.#db
      .insertInto('refresh_tokens')
      .values({ token_hash: token.tokenHash, user_id: token.userId, device_id: token.deviceId, created_ts: token.createdTs })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async findRefreshToken(tokenHash: string): Promise<StoredRefreshToken | undefined> {
    const row = await this.#db
      .selectFrom('refresh_tokens')
      .select(['id', 'user_id', 'device_id', 'next_token_id'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row === undefined ? undefined : { id: row.id, userId: row.user_id, deviceId: row.device_id, nextTokenId: row.next_token_id };
  }

  /** Deletes one refresh token (and, by cascade, the access tokens it issued). */
  async deleteRefreshToken(id: number): Promise<void> {
    await this.#db.deleteFrom('refresh_tokens').where('id', '=', id).execute();
  }

  async setNextRefreshToken(id: number, nextId: number): Promise<void> {
    await this.#db.updateTable('refresh_tokens').set({ next_token_id: nextId }).where('id', '=', id).execute();
  }

  /** Revokes the refresh tokens that `id` replaced (their access tokens go with them). */
  async revokeRefreshTokensReplacedBy(id: number): Promise<void> {
    await this.#db.deleteFrom('refresh_tokens').where('next_token_id', '=', id).execute();
  }

  // --- Login tokens (m.login.token) ---------------------------------------------------------

  async insertLoginToken(token: { tokenHash: string; userId: string; createdTs: number; expiresTs: number }): Promise<void> {
    await this.#db
      .insertInto('login_tokens')
      .values({ token_hash: token.tokenHash, user_id: token.userId, created_ts: token.createdTs, expires_ts: token.expiresTs })
      .execute();
  }

  /** Spends a login token: deletes it and returns its user when it had not expired at `now`. */
  async consumeLoginToken(tokenHash: string, now: number): Promise<string | undefined> {
    const row = await this.#db
      .deleteFrom('login_tokens')
      .where('token_hash', '=', tokenHash)
      .returning(['user_id', 'expires_ts'])
      .executeTakeFirst();
    return row !== undefined && row.expires_ts > now ? row.user_id : undefined;
  }

  async deleteExpiredLoginTokens(now: number): Promise<void> {
    await this.#db.deleteFrom('login_tokens').where('expires_ts', '<=', now).execute();
  }
}
