// What the account, login and device endpoints do to the database, in one place: create
// accounts, issue sessions (a device plus its tokens), refresh, log out, delete devices,
// change passwords, deactivate. Endpoints stay thin; other areas subscribe to device and
// account changes (E2EE device lists, profiles) through the listeners.

import { forbidden, unknownToken, userInUse } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { AccountsRepository, DevicesRepository, TokensRepository, type StoaDatabase } from '../../storage/index.ts';
import type { CachingAccessTokenVerifier } from './access-token-verifier.ts';
import { hashPassword } from './password-hash.ts';
import { generateDeviceId, generateToken, hashToken } from './tokens.ts';

/** A logged-in session, as /login and /register return it. */
export interface IssuedSession {
  readonly userId: string;
  readonly deviceId: string;
  readonly accessToken: string;
  /** Set when the client asked for refresh tokens. */
  readonly refreshToken?: string;
  /** The access token's lifetime; set with `refreshToken`. */
  readonly expiresInMs?: number;
}

export interface DeviceChange {
  readonly userId: string;
  readonly deviceId: string;
  readonly change: 'created' | 'updated' | 'deleted';
}

export interface RegisteredUser {
  readonly userId: string;
  /** The display name asked for (shared-secret registration), if any. */
  readonly displayName: string | undefined;
  readonly isGuest: boolean;
}

export type Listener<T> = (event: T) => void | Promise<void>;

export interface AccountServiceOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Pick<Roomserver, 'roomsForUser' | 'setMembership'>;
  readonly serverName: string;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly verifier: CachingAccessTokenVerifier;
  /** Lifetime of access tokens issued with a refresh token. */
  readonly refreshableTokenLifetimeMs: number;
  readonly loginTokenLifetimeMs: number;
}

export class AccountService {
  readonly serverName: string;
  readonly accounts: AccountsRepository;
  readonly devices: DevicesRepository;
  readonly #db: StoaDatabase;
  readonly #tokens: TokensRepository;
  readonly #roomserver: AccountServiceOptions['roomserver'];
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #verifier: CachingAccessTokenVerifier;
  readonly #refreshableLifetimeMs: number;
  readonly #loginTokenLifetimeMs: number;
  readonly #deviceListeners: Array<Listener<DeviceChange>> = [];
  readonly #registrationListeners: Array<Listener<RegisteredUser>> = [];

  constructor(options: AccountServiceOptions) {
    this.serverName = options.serverName;
    this.#db = options.db;
    this.accounts = new AccountsRepository(options.db.kysely);
    this.devices = new DevicesRepository(options.db.kysely);
    this.#tokens = new TokensRepository(options.db.kysely);
    this.#roomserver = options.roomserver;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#verifier = options.verifier;
    this.#refreshableLifetimeMs = options.refreshableTokenLifetimeMs;
    this.#loginTokenLifetimeMs = options.loginTokenLifetimeMs;
  }

  /** Called after a device is created, renamed or deleted (E2EE device-list updates). */
  onDeviceChange(listener: Listener<DeviceChange>): void {
    this.#deviceListeners.push(listener);
  }

  /** Called after an account is created (e.g. to give it a default profile). */
  onUserRegistered(listener: Listener<RegisteredUser>): void {
    this.#registrationListeners.push(listener);
  }

  /**
   * Creates an account. Throws M_USER_IN_USE when the ID is taken, and M_FORBIDDEN when
   * `registrationToken` is given but no longer usable (it is counted in the same transaction).
   */
  async register(input: {
    userId: string;
    password: string | undefined;
    isAdmin?: boolean;
    isGuest?: boolean;
    registrationToken?: string | undefined;
    displayName?: string | undefined;
  }): Promise<void> {
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    const now = this.#clock();
    await this.#db.kysely.transaction().execute(async (trx) => {
      const accounts = new AccountsRepository(trx);
      const created = await accounts.createUser({
        userId: input.userId,
        passwordHash,
        createdTs: now,
        isAdmin: input.isAdmin ?? false,
        isGuest: input.isGuest ?? false,
      });
      if (!created) throw userInUse();
      if (input.registrationToken !== undefined && !(await accounts.consumeRegistrationToken(input.registrationToken, now))) {
        throw forbidden('The registration token is no longer valid');
      }
    });
    await this.#emit(this.#registrationListeners, { userId: input.userId, displayName: input.displayName, isGuest: input.isGuest ?? false });
  }

  /**
   * Logs `userId` in on `deviceId` (a new device when unset or unknown). Reusing a device
   * ends its previous tokens (§ "Relationship between access tokens and devices").
   */
  async issueSession(input: {
    userId: string;
    deviceId?: string | undefined;
    initialDisplayName?: string | undefined;
    refreshable: boolean;
  }): Promise<IssuedSession> {
    const deviceId = input.deviceId ?? generateDeviceId();
    const accessToken = generateToken('access');
    const refreshToken = input.refreshable ? generateToken('refresh') : undefined;
    const now = this.#clock();
    const created = await this.#db.kysely.transaction().execute(async (trx) => {
      const devices = new DevicesRepository(trx);
      const tokens = new TokensRepository(trx);
      const isNew = await devices.createIfAbsent({
        userId: input.userId,
        deviceId,
        displayName: input.initialDisplayName ?? null,
        createdTs: now,
      });
      if (!isNew) await tokens.deleteTokensOfDevice(input.userId, deviceId);
      const refreshTokenId =
        refreshToken === undefined
          ? null
          : await tokens.insertRefreshToken({ tokenHash: hashToken(refreshToken), userId: input.userId, deviceId, createdTs: now });
      await tokens.insertAccessToken({
        tokenHash: hashToken(accessToken),
        userId: input.userId,
        deviceId,
        createdTs: now,
        expiresTs: refreshToken === undefined ? null : now + this.#refreshableLifetimeMs,
        refreshTokenId,
      });
      return isNew;
    });
    this.#verifier.invalidateUser(input.userId);
    if (created) await this.#emit(this.#deviceListeners, { userId: input.userId, deviceId, change: 'created' });
    return refreshToken === undefined
      ? { userId: input.userId, deviceId, accessToken }
      : { userId: input.userId, deviceId, accessToken, refreshToken, expiresInMs: this.#refreshableLifetimeMs };
  }

  /**
   * § "Refreshing access tokens": a new access token and refresh token for the refresh
   * token's device. The old refresh token stays usable until the new tokens are first used.
   */
  async refresh(refreshToken: string): Promise<{ accessToken: string; refreshToken: string; expiresInMs: number }> {
    const stored = await this.#tokens.findRefreshToken(hashToken(refreshToken));
    if (stored === undefined) throw unknownToken('Unknown refresh token');
    const user = await this.accounts.findUser(stored.userId);
    if (user === undefined || user.deactivated) throw unknownToken('Unknown refresh token');
    const accessToken = generateToken('access');
    const nextRefreshToken = generateToken('refresh');
    const now = this.#clock();
    await this.#db.kysely.transaction().execute(async (trx) => {
      const tokens = new TokensRepository(trx);
      // A successor that exists was never used (its use would have revoked this token):
      // the client lost that response, so this refresh replaces it.
      if (stored.nextTokenId !== null) await tokens.deleteRefreshToken(stored.nextTokenId);
      await tokens.revokeRefreshTokensReplacedBy(stored.id);
      const nextId = await tokens.insertRefreshToken({
        tokenHash: hashToken(nextRefreshToken),
        userId: stored.userId,
        deviceId: stored.deviceId,
        createdTs: now,
      });
      await tokens.setNextRefreshToken(stored.id, nextId);
      await tokens.insertAccessToken({
        tokenHash: hashToken(accessToken),
        userId: stored.userId,
        deviceId: stored.deviceId,
        createdTs: now,
        expiresTs: now + this.#refreshableLifetimeMs,
        refreshTokenId: nextId,
      });
    });
    return { accessToken, refreshToken: nextRefreshToken, expiresInMs: this.#refreshableLifetimeMs };
  }

  /** Deletes devices (and with them their tokens); unknown IDs are ignored. */
  async deleteDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    const deleted = await this.devices.delete(userId, [...new Set(deviceIds)]);
    await this.#afterDeletion(userId, deleted);
  }

  /** Deletes every device of `userId` but `keep` (when given). */
  async deleteAllDevices(userId: string, keep?: string): Promise<void> {
    const deleted = await this.devices.deleteAllExcept(userId, keep);
    await this.#afterDeletion(userId, deleted);
  }

  async renameDevice(userId: string, deviceId: string, displayName: string): Promise<boolean> {
    const renamed = await this.devices.rename(userId, deviceId, displayName);
    if (renamed) await this.#emit(this.#deviceListeners, { userId, deviceId, change: 'updated' });
    return renamed;
  }

  /**
   * Sets a new password. With `logoutDevices`, every other device is deleted (§ "POST
   * /account/password": "the user's other access tokens, and their associated devices").
   */
  async changePassword(userId: string, newPassword: string, options: { logoutDevices: boolean; keepDeviceId: string | undefined }): Promise<void> {
    await this.accounts.setPasswordHash(userId, await hashPassword(newPassword));
    if (options.logoutDevices) await this.deleteAllDevices(userId, options.keepDeviceId);
  }

  /**
   * Deactivates an account: no password, no devices or tokens, and it leaves (or rejects the
   * invitations to, or withdraws its knocks from) every room. The user ID stays taken.
   */
  async deactivate(userId: string): Promise<void> {
    await this.accounts.markDeactivated(userId);
    await this.#tokens.deleteAllTokensOfUser(userId);
    await this.deleteAllDevices(userId);
    for (const membership of ['join', 'invite', 'knock']) {
      for (const roomId of await this.#roomserver.roomsForUser(userId, membership)) {
        try {
          await this.#roomserver.setMembership({ roomId, sender: userId, target: userId, membership: 'leave' });
        } catch (error) {
          // One room refusing (a remote invite we cannot reject locally, say) must not stop the rest.
          this.#logger.warn({ err: error, user_id: userId, room_id: roomId, membership }, 'deactivation could not leave a room');
        }
      }
    }
  }

  /** A single-use m.login.token for `userId` (POST /login/get_token). */
  async createLoginToken(userId: string): Promise<{ token: string; expiresInMs: number }> {
    const token = generateToken('login');
    const now = this.#clock();
    await this.#tokens.deleteExpiredLoginTokens(now);
    await this.#tokens.insertLoginToken({ tokenHash: hashToken(token), userId, createdTs: now, expiresTs: now + this.#loginTokenLifetimeMs });
    return { token, expiresInMs: this.#loginTokenLifetimeMs };
  }

  /** Spends a login token; its user, or undefined when it is unknown, used or expired. */
  consumeLoginToken(token: string): Promise<string | undefined> {
    return this.#tokens.consumeLoginToken(hashToken(token), this.#clock());
  }

  async #afterDeletion(userId: string, deleted: readonly string[]): Promise<void> {
    this.#verifier.invalidateUser(userId);
    for (const deviceId of deleted) await this.#emit(this.#deviceListeners, { userId, deviceId, change: 'deleted' });
  }

  async #emit<T>(listeners: ReadonlyArray<Listener<T>>, event: T): Promise<void> {
    for (const listener of listeners) {
      try {
        await listener(event);
      } catch (error) {
        // The change is committed; a listener's failure is its own to report.
        this.#logger.error({ err: error }, 'account change listener failed');
      }
    }
  }
}
