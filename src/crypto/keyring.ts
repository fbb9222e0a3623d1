// The keyring: remote servers' verify keys, looked up in the cache and fetched when missing
// or not valid long enough (server-server § "Retrieving server keys"). Fetchers form a
// chain — the origin itself, then notaries — behind an interface, so this file does no I/O
// of its own; the HTTP fetchers live in src/federation/client/key-fetchers.ts.
//
// Validity: a key from `verify_keys` is valid until the lesser of the document's
// `valid_until_ts` and 7 days after we fetched it (keys.yaml: "Servers MUST use the lesser
// of this field and 7 days into the future"); a key from `old_verify_keys` is valid for
// signatures made before its `expired_ts`. Whether validity matters (room versions 5+) and
// whether an old key will do (never for requests) is the caller's decision: the keyring
// tries to satisfy `minimumValidUntilTs`, then returns the best key it has with its validity.

import { tryDecodeBase64 } from '../rooms/base64.ts';
import { isSupportedKeyId } from './signed-json.ts';
import type { ServerKeyDocument } from './server-key-response.ts';

/** keys.yaml: a key is never trusted for longer than this after it was fetched. */
export const MAX_KEY_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * One cached key. The same shape as storage's `StoredServerKey`, so
 * `ServerKeysRepository` is a `ServerKeyCache` as it stands.
 */
export interface CachedServerKey {
  readonly serverName: string;
  readonly keyId: string;
  /** Unpadded Base64. */
  readonly publicKey: string;
  /** The document's `valid_until_ts` for keys listed in `verify_keys`. */
  readonly validUntilTs: number | null;
  /** Set for keys listed in `old_verify_keys`. */
  readonly expiredTs: number | null;
  readonly fetchedTs: number;
  /** The signed key document the key came from (canonical JSON). */
  readonly keyJson: string;
}

export interface ServerKeyCache {
  upsert(keys: readonly CachedServerKey[]): Promise<void>;
  find(serverName: string, keyId: string): Promise<CachedServerKey | undefined>;
  findAllForServer(serverName: string): Promise<CachedServerKey[]>;
}

export interface KeyQuery {
  readonly serverName: string;
  /** The key IDs wanted; empty means "all of them". */
  readonly keyIds: readonly string[];
  readonly minimumValidUntilTs: number;
}

/**
 * Fetches key documents. Implementations verify what they return: the origin's
 * self-signature always, and a notary's signature for notary fetchers. A fetcher throws
 * when it cannot answer; the keyring then asks the next one.
 */
export interface KeyFetcher {
  /** For logs: `origin`, or `notary <name>`. */
  readonly name: string;
  readonly source: 'origin' | 'notary';
  fetch(query: KeyQuery): Promise<ServerKeyDocument[]>;
}

/** A verify key with what the keyring knows of its validity. */
export interface VerifyKey {
  readonly serverName: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  /**
   * Signatures made before this timestamp may be trusted: the capped `valid_until_ts` for a
   * current key, `expired_ts` for an old one.
   */
  readonly validUntilTs: number;
  /** Listed in `old_verify_keys`: good for events signed before `validUntilTs`, never for requests. */
  readonly expired: boolean;
}

/** Our own keys, answered without a cache or a network. */
export interface LocalKeys {
  readonly serverName: string;
  readonly keys: ReadonlyArray<{ readonly keyId: string; readonly publicKey: Uint8Array; readonly expiredTs?: number }>;
}

export interface KeyringOptions {
  readonly cache: ServerKeyCache;
  /** Tried in order; usually the origin fetcher, then one fetcher per trusted notary. */
  readonly fetchers: readonly KeyFetcher[];
  readonly localKeys?: LocalKeys;
  readonly now?: () => number;
  /** Told about each fetcher that failed; the lookup goes on with the next one. */
  readonly onFetchError?: (fetcher: string, serverName: string, error: unknown) => void;
}

export interface LookupOptions {
  /** Default: now. */
  readonly minimumValidUntilTs?: number;
}

export interface DocumentLookupOptions extends LookupOptions {
  /** Empty or absent: every key the server has. */
  readonly keyIds?: readonly string[];
  /**
   * `origin`: ask only the server itself (a notary answering a query must not pass the
   * question on to other notaries). Default `all`.
   */
  readonly sources?: 'all' | 'origin';
}

export function effectiveValidUntil(key: CachedServerKey): number {
  if (key.expiredTs !== null) return key.expiredTs;
  return Math.min(key.validUntilTs ?? 0, key.fetchedTs + MAX_KEY_VALIDITY_MS);
}

function toVerifyKey(key: CachedServerKey): VerifyKey | undefined {
  const publicKey = tryDecodeBase64(key.publicKey);
  if (publicKey === undefined) return undefined;
  return {
    serverName: key.serverName,
    keyId: key.keyId,
    publicKey,
    validUntilTs: effectiveValidUntil(key),
    expired: key.expiredTs !== null,
  };
}

/**
 * An old key never becomes valid for longer by fetching again; a current key is good
 * enough when it is valid until the minimum.
 */
function isSatisfying(key: CachedServerKey | undefined, minimumValidUntilTs: number): boolean {
  if (key === undefined) return false;
  return key.expiredTs !== null || effectiveValidUntil(key) >= minimumValidUntilTs;
}

export class Keyring {
  readonly #cache: ServerKeyCache;
  readonly #fetchers: readonly KeyFetcher[];
  readonly #localKeys: LocalKeys | undefined;
  readonly #now: () => number;
  readonly #onFetchError: KeyringOptions['onFetchError'];
  /** One fetch per server at a time; later callers wait for it, then look again. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(options: KeyringOptions) {
    this.#cache = options.cache;
    this.#fetchers = options.fetchers;
    this.#localKeys = options.localKeys;
    this.#now = options.now ?? Date.now;
    this.#onFetchError = options.onFetchError;
  }

  /**
   * `serverName`'s key `keyId`, fetched when the cache has none valid until
   * `minimumValidUntilTs`. Undefined when no source knows the key.
   */
  async getVerifyKey(serverName: string, keyId: string, options: LookupOptions = {}): Promise<VerifyKey | undefined> {
    if (!isSupportedKeyId(keyId)) return undefined;
    const local = this.#localKey(serverName, keyId);
    if (local !== null) return local;
    const minimum = options.minimumValidUntilTs ?? this.#now();
    const satisfied = async (): Promise<boolean> => isSatisfying(await this.#cache.find(serverName, keyId), minimum);
    if (!(await satisfied())) {
      await this.#refresh({ serverName, keyIds: [keyId], minimumValidUntilTs: minimum }, 'all', satisfied);
    }
    const cached = await this.#cache.find(serverName, keyId);
    return cached === undefined ? undefined : toVerifyKey(cached);
  }

  /**
   * The signed key documents held for `serverName` (canonical JSON texts, newest first),
   * refreshed first when they do not cover the keys asked for until the minimum. For the
   * notary endpoints, which pass the documents on with their own signature added.
   */
  async getKeyDocuments(serverName: string, options: DocumentLookupOptions = {}): Promise<string[]> {
    const minimum = options.minimumValidUntilTs ?? this.#now();
    const keyIds = (options.keyIds ?? []).filter(isSupportedKeyId);
    const satisfied = async (): Promise<boolean> => {
      const keys = await this.#cache.findAllForServer(serverName);
      if (keyIds.length === 0) return keys.some((key) => key.expiredTs === null && isSatisfying(key, minimum));
      return keyIds.every((keyId) => isSatisfying(keys.find((key) => key.keyId === keyId), minimum));
    };
    if (!(await satisfied())) {
      await this.#refresh({ serverName, keyIds, minimumValidUntilTs: minimum }, options.sources ?? 'all', satisfied);
    }
    const keys = await this.#cache.findAllForServer(serverName);
    const wanted = keyIds.length === 0 ? keys : keys.filter((key) => keyIds.includes(key.keyId));
    const newestFirst = [...wanted].sort((a, b) => b.fetchedTs - a.fetchedTs);
    return [...new Set(newestFirst.map((key) => key.keyJson))];
  }

  #localKey(serverName: string, keyId: string): VerifyKey | undefined | null {
    if (this.#localKeys === undefined || this.#localKeys.serverName !== serverName) return null;
    const key = this.#localKeys.keys.find((candidate) => candidate.keyId === keyId);
    if (key === undefined) return undefined;
    return {
      serverName,
      keyId,
      publicKey: key.publicKey,
      // Our current key is valid for as long as we keep running with it.
      validUntilTs: key.expiredTs ?? Number.MAX_SAFE_INTEGER,
      expired: key.expiredTs !== undefined,
    };
  }

  async #refresh(query: KeyQuery, sources: 'all' | 'origin', satisfied: () => Promise<boolean>): Promise<void> {
    // Wait for a fetch already under way for this server; it may bring what we need.
    for (let running = this.#inFlight.get(query.serverName); running !== undefined; running = this.#inFlight.get(query.serverName)) {
      await running;
      if (await satisfied()) return;
    }
    const fetching = this.#runFetchers(query, sources, satisfied).finally(() => {
      this.#inFlight.delete(query.serverName);
    });
    this.#inFlight.set(query.serverName, fetching);
    await fetching;
  }

  async #runFetchers(query: KeyQuery, sources: 'all' | 'origin', satisfied: () => Promise<boolean>): Promise<void> {
    for (const fetcher of this.#fetchers) {
      if (sources === 'origin' && fetcher.source !== 'origin') continue;
      let documents: ServerKeyDocument[];
      try {
        documents = await fetcher.fetch(query);
      } catch (error) {
        this.#onFetchError?.(fetcher.name, query.serverName, error);
        continue;
      }
      await this.#store(query.serverName, documents.filter((document) => document.serverName === query.serverName));
      if (await satisfied()) return;
    }
  }

  async #store(serverName: string, documents: readonly ServerKeyDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const fetchedTs = this.#now();
    const cached = new Map((await this.#cache.findAllForServer(serverName)).map((key) => [key.keyId, key]));
    const rows = new Map<string, CachedServerKey>();
    const consider = (row: CachedServerKey): void => {
      // A stale copy (an old notary cache, a replayed response) must not shorten what we know.
      // A key that moved to old_verify_keys is always recorded: its expiry is news.
      const previous = rows.get(row.keyId) ?? cached.get(row.keyId);
      if (
        previous !== undefined &&
        previous.publicKey === row.publicKey &&
        previous.expiredTs === null &&
        row.expiredTs === null &&
        effectiveValidUntil(previous) > effectiveValidUntil(row)
      ) {
        return;
      }
      rows.set(row.keyId, row);
    };
    for (const document of documents) {
      for (const [keyId, publicKey] of document.verifyKeys) {
        consider({ serverName, keyId, publicKey, validUntilTs: document.validUntilTs, expiredTs: null, fetchedTs, keyJson: document.json });
      }
      for (const [keyId, old] of document.oldVerifyKeys) {
        consider({ serverName, keyId, publicKey: old.key, validUntilTs: null, expiredTs: old.expiredTs, fetchedTs, keyJson: document.json });
      }
    }
    await this.#cache.upsert([...rows.values()]);
  }
}

/** A `ServerKeyCache` in memory: for tests, and for tools that run without a database. */
export class MemoryServerKeyCache implements ServerKeyCache {
  readonly #keys = new Map<string, CachedServerKey>();

  async upsert(keys: readonly CachedServerKey[]): Promise<void> {
    for (const key of keys) {
      const id = `${key.serverName}\u0000${key.keyId}`;
      const existing = this.#keys.get(id);
      // As the repository does: a fetch that finished earlier never overwrites a later one.
      if (existing !== undefined && existing.fetchedTs > key.fetchedTs) continue;
      this.#keys.set(id, key);
    }
  }

  async find(serverName: string, keyId: string): Promise<CachedServerKey | undefined> {
    return this.#keys.get(`${serverName}\u0000${keyId}`);
  }

  async findAllForServer(serverName: string): Promise<CachedServerKey[]> {
    return [...this.#keys.values()]
      .filter((key) => key.serverName === serverName)
      .sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  }
}
