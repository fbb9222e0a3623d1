// Local user accounts, registration tokens and shared-secret registration nonces
// (client-server API § "Account registration and management").

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredUser {
  readonly userId: string;
  /** null: the account has no password (it cannot log in with m.login.password). */
  readonly passwordHash: string | null;
  readonly createdTs: number;
  readonly isAdmin: boolean;
  readonly isGuest: boolean;
  readonly deactivated: boolean;
}

export interface NewUser {
  readonly userId: string;
  readonly passwordHash: string | null;
  readonly createdTs: number;
  readonly isAdmin?: boolean;
  readonly isGuest?: boolean;
}

export interface RegistrationToken {
  readonly token: string;
  /** null: unlimited. */
  readonly usesAllowed: number | null;
  readonly completed: number;
  /** null: never expires. */
  readonly expiryTs: number | null;
  readonly createdTs: number;
}

export class AccountsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Creates the user; false when the user ID is taken (deactivated accounts keep theirs). */
  async createUser(user: NewUser): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('users')
      .values({
        user_id: user.userId,
        password_hash: user.passwordHash,
        created_ts: user.createdTs,
        is_admin: user.isAdmin ?? false,
        is_guest: user.isGuest ?? false,
      })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .returning('user_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async findUser(userId: string): Promise<StoredUser | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          userId: row.user_id,
          passwordHash: row.password_hash,
          createdTs: row.created_ts,
          isAdmin: row.is_admin,
          isGuest: row.is_guest,
          deactivated: row.deactivated,
        };
  }

  async userExists(userId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('users').select('user_id').where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  async setPasswordHash(userId: string, passwordHash: string | null): Promise<void> {
    await this.#db.updateTable('users').set({ password_hash: passwordHash }).where('user_id', '=', userId).execute();
  }

  /** Marks the account deactivated and forgets its password; the user ID stays taken. */
  async markDeactivated(userId: string): Promise<void> {
    await this.#db.updateTable('users').set({ deactivated: true, password_hash: null }).where('user_id', '=', userId).execute();
  }

  // --- Registration tokens ------------------------------------------------------------------

  /** Adds a token; false when it exists already. */
  async createRegistrationToken(token: Omit<RegistrationToken, 'completed'>): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('registration_tokens')
      .values({ token: token.token, uses_allowed: token.usesAllowed, expiry_ts: token.expiryTs, created_ts: token.createdTs })
      .onConflict((oc) => oc.column('token').doNothing())
      .returning('token')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async findRegistrationToken(token: string): Promise<RegistrationToken | undefined> {
    const row = await this.#db.selectFrom('registration_tokens').selectAll().where('token', '=', token).executeTakeFirst();
    return row === undefined
      ? undefined
      : { token: row.token, usesAllowed: row.uses_allowed, completed: row.completed, expiryTs: row.expiry_ts, createdTs: row.created_ts };
  }

  /** Whether `token` exists, has uses left and has not expired at `now`. */
  async registrationTokenUsable(token: string, now: number): Promise<boolean> {
    const found = await this.findRegistrationToken(token);
    return found !== undefined && isUsable(found, now);
  }

  /**
   * Counts one registration against `token`, atomically with the check that it is still
   * usable; false (and nothing counted) when it is not. Run it in the registration's
   * transaction, so a failed registration does not use the token up.
   */
  async consumeRegistrationToken(token: string, now: number): Promise<boolean> {
    const updated = await this.#db
      .updateTable('registration_tokens')
      .set((eb) => ({ completed: eb('completed', '+', 1) }))
      .where('token', '=', token)
      .where((eb) => eb.or([eb('uses_allowed', 'is', null), eb('completed', '<', eb.ref('uses_allowed'))]))
      .where((eb) => eb.or([eb('expiry_ts', 'is', null), eb('expiry_ts', '>', now)]))
      .returning('token')
      .executeTakeFirst();
    return updated !== undefined;
  }

  // --- Shared-secret registration nonces ----------------------------------------------------

  async insertNonce(nonce: string, createdTs: number): Promise<void> {
    await this.#db.insertInto('registration_nonces').values({ nonce, created_ts: createdTs }).execute();
  }

  /**
   * Deletes `nonce` (a nonce is spent by any attempt, right or wrong) and says whether it
   * existed and was issued at or after `notBefore`.
   */
  async takeNonce(nonce: string, notBefore: number): Promise<boolean> {
    const row = await this.#db.deleteFrom('registration_nonces').where('nonce', '=', nonce).returning('created_ts').executeTakeFirst();
    return row !== undefined && row.created_ts >= notBefore;
  }

  async deleteNoncesBefore(ts: number): Promise<void> {
    await this.#db.deleteFrom('registration_nonces').where('created_ts', '<', ts).execute();
  }
}

function isUsable(token: RegistrationToken, now: number): boolean {
  if (token.expiryTs !== null && token.expiryTs <= now) return false;
  return token.usesAllowed === null || token.completed < token.usesAllowed;
}
