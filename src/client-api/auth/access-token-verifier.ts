// Access-token lookup for the HTTP layer (client-server API § "Using access tokens").
//
// Tokens are looked up by SHA-256 (see ./tokens.ts) and the answer is cached for a few
// seconds, so a busy client does not cost a query per request. Logouts in this process
// invalidate the cache at once; another process sharing the database sees a logout within
// the cache lifetime.
//
// An expired token is a soft logout (§ "Soft logout", § "Refreshing access tokens"):
// 401 M_UNKNOWN_TOKEN with `soft_logout: true`, so the client refreshes or logs in again
// with the same device. An unknown token is plain M_UNKNOWN_TOKEN (the app's default).

import type { AppServices } from '../../appservice/service.ts';
import type { AccessTokenVerifier, Requester } from '../../http/define-endpoint.ts';
import { unknownToken } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { DevicesRepository, TokensRepository, type StoaDatabase } from '../../storage/index.ts';
import { hashToken } from './tokens.ts';

export interface AccessTokenVerifierOptions {
  readonly db: StoaDatabase;
  readonly clock: () => number;
  readonly logger: Logger;
  /** How long a lookup is reused. Default 5 s. */
  readonly cacheTtlMs?: number;
  /** Cached lookups kept at most. Default 10 000. */
  readonly maxCacheEntries?: number;
  /** How often a device's last_seen_ts is written at most. Default 60 s. */
  readonly lastSeenIntervalMs?: number;
  /** Application services: their `as_token`s, with identity assertion. */
  readonly appServices?: AppServices | undefined;
}

interface CachedToken {
  readonly requester: Requester;
  readonly expiresTs: number | null;
  readonly cachedAt: number;
}

export class CachingAccessTokenVerifier implements AccessTokenVerifier {
  readonly #tokens: TokensRepository;
  readonly #devices: DevicesRepository;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #lastSeenIntervalMs: number;
  readonly #cache = new Map<string, CachedToken>();
  readonly #lastSeenWritten = new Map<string, number>();
  readonly #appServices: AppServices | undefined;

  constructor(options: AccessTokenVerifierOptions) {
    this.#tokens = new TokensRepository(options.db.kysely);
    this.#devices = new DevicesRepository(options.db.kysely);
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#ttlMs = options.cacheTtlMs ?? 5_000;
    this.#maxEntries = options.maxCacheEntries ?? 10_000;
    this.#lastSeenIntervalMs = options.lastSeenIntervalMs ?? 60_000;
    this.#appServices = options.appServices;
  }

  async verify(token: string, query?: URLSearchParams): Promise<Requester | undefined> {
    // An `as_token` is not stored: it comes from the registration files and is never cached.
    const appServiceRequester = await this.#appServices?.authenticate(token, query);
    if (appServiceRequester !== undefined) return appServiceRequester;
    const hash = hashToken(token);
    const now = this.#clock();
    const cached = this.#cache.get(hash);
    if (cached !== undefined && now - cached.cachedAt < this.#ttlMs) {
      checkNotExpired(cached.expiresTs, now);
      return cached.requester;
    }
    this.#cache.delete(hash);

    const stored = await this.#tokens.findAccessToken(hash);
    if (stored === undefined || stored.deactivated) return undefined;
    checkNotExpired(stored.expiresTs, now);
    if (!stored.used) await this.#tokens.markAccessTokenUsed(hash, stored.refreshTokenId);

    const requester: Requester = { userId: stored.userId, deviceId: stored.deviceId, isGuest: stored.isGuest };
    if (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(hash, { requester, expiresTs: stored.expiresTs, cachedAt: now });
    this.#recordSeen(stored.userId, stored.deviceId, now);
    return requester;
  }

  /** Forgets a token at once (logout). */
  invalidateToken(token: string): void {
    this.#cache.delete(hashToken(token));
  }

  /** Forgets every cached token of `userId` (device deletion, password change, deactivation). */
  invalidateUser(userId: string): void {
    for (const [hash, entry] of this.#cache) {
      if (entry.requester.userId === userId) this.#cache.delete(hash);
    }
  }

  /** Writes the device's last-seen time, at most once per interval and never in the request's way. */
  #recordSeen(userId: string, deviceId: string, now: number): void {
    const key = `${userId}\u0000${deviceId}`;
    const last = this.#lastSeenWritten.get(key);
    if (last !== undefined && now - last < this.#lastSeenIntervalMs) return;
    if (this.#lastSeenWritten.size >= this.#maxEntries) this.#lastSeenWritten.clear();
    this.#lastSeenWritten.set(key, now);
    this.#devices.recordSeen(userId, deviceId, now, null).catch((error: unknown) => {
      this.#logger.warn({ err: error, user_id: userId }, 'could not record device last-seen time');
    });
  }
}

function checkNotExpired(expiresTs: number | null, now: number): void {
  if (expiresTs !== null && expiresTs <= now) throw unknownToken('Access token has expired', true);
}
