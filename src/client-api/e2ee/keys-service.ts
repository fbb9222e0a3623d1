// The key management API (client-server § "End-to-End Encryption" › "Key management API"):
// uploading device, one-time and fallback keys, querying the keys of local and remote users,
// and claiming one-time keys. Remote users are asked through their servers, in parallel,
// one request per server; a server that does not answer is listed in `failures`.
//
// Except for remote users who share a room with one of ours: their servers keep us up to
// date with m.device_list_update EDUs, so we keep their device lists and answer from that
// cache (server-server § "Device Management"), fetching the whole list once
// (GET /user/devices) when we have none or it may have missed updates (stale).

import { invalidParam } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { E2eeDeviceListsRepository } from '../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeyDirectory } from '../../storage/e2ee-key-directory.ts';
import { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import type { DeviceListService } from './device-lists.ts';
import type { E2eeFederation } from './federation-port.ts';
import { checkDeviceKeys, checkKeyMap } from './key-objects.ts';

/** Clients get at least this count for signed_curve25519 so they know to upload (Synapse does the same). */
const DEFAULT_OTK_ALGORITHM = 'signed_curve25519';
/** Longest a query or claim waits for remote servers. */
const MAX_REMOTE_TIMEOUT_MS = 10_000;

export interface KeysServiceDeps {
  readonly db: StoaDatabase;
  readonly serverName: string;
  readonly deviceLists: DeviceListService;
  readonly federation: E2eeFederation | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
}

export interface KeyCounts {
  readonly oneTimeKeyCounts: Record<string, number>;
  readonly unusedFallbackKeyTypes: string[];
}

export class KeysService {
  readonly #deps: KeysServiceDeps;
  readonly #keys: E2eeKeysRepository;
  readonly #directory: E2eeKeyDirectory;
  readonly #lists: E2eeDeviceListsRepository;

  constructor(deps: KeysServiceDeps) {
    this.#deps = deps;
    this.#keys = new E2eeKeysRepository(deps.db.kysely);
    this.#directory = new E2eeKeyDirectory(deps.db.kysely);
    this.#lists = new E2eeDeviceListsRepository(deps.db.kysely);
  }

  /** POST /keys/upload. */
  async upload(userId: string, deviceId: string, body: JsonObject): Promise<JsonObject> {
    const deviceKeys = getField(body, 'device_keys');
    const checkedDeviceKeys = deviceKeys === undefined || deviceKeys === null ? undefined : checkDeviceKeys(deviceKeys, userId, deviceId);
    const oneTimeKeys = checkKeyMap(getField(body, 'one_time_keys') ?? undefined, 'one_time_keys');
    const fallbackKeys = checkKeyMap(getField(body, 'fallback_keys') ?? undefined, 'fallback_keys');
    const fallbackAlgorithms = new Set(fallbackKeys.map((k) => k.algorithm));
    if (fallbackAlgorithms.size !== fallbackKeys.length) throw invalidParam('fallback_keys may hold one key per algorithm');

    const now = this.#deps.clock();
    if (oneTimeKeys.length > 0) {
      const conflicts = await this.#keys.addOneTimeKeys(
        userId,
        deviceId,
        oneTimeKeys.map((k) => ({ algorithm: k.algorithm, keyId: k.keyId, keyJson: JSON.stringify(k.value) })),
        now,
      );
      if (conflicts.length > 0) throw invalidParam(`One-time key ${conflicts[0]} already exists with different content`);
    }
    for (const key of fallbackKeys) {
      await this.#keys.setFallbackKey(userId, deviceId, { algorithm: key.algorithm, keyId: key.keyId, keyJson: JSON.stringify(key.value) });
    }
    if (checkedDeviceKeys !== undefined) {
      const changed = await this.#keys.setDeviceKeys(userId, deviceId, JSON.stringify(checkedDeviceKeys), now);
      if (changed) await this.#deps.deviceLists.userChanged(userId, [{ deviceId, deleted: false }]);
    }
    return { one_time_key_counts: (await this.counts(userId, deviceId)).oneTimeKeyCounts };
  }

  /** `device_one_time_keys_count` and `device_unused_fallback_key_types` of /sync. */
  async counts(userId: string, deviceId: string): Promise<KeyCounts> {
    const oneTimeKeyCounts = { [DEFAULT_OTK_ALGORITHM]: 0, ...(await this.#keys.countOneTimeKeys(userId, deviceId)) };
    return { oneTimeKeyCounts, unusedFallbackKeyTypes: await this.#keys.unusedFallbackKeyTypes(userId, deviceId) };
  }

  /** POST /keys/query. */
  async query(requester: string, body: JsonObject): Promise<JsonObject> {
    const requested = getField(body, 'device_keys');
    if (!isJsonObject(requested)) throw invalidParam('device_keys must be an object');
    const local = new Map<string, string[]>();
    const remote = new Map<string, JsonObject>();
    for (const [userId, devices] of Object.entries(requested)) {
      if (!Array.isArray(devices) || !devices.every((d) => typeof d === 'string')) {
        throw invalidParam(`device_keys.${userId} must be an array of device IDs`);
      }
      const server = serverNameOf(userId);
      if (server === undefined) continue;
      if (server === this.#deps.serverName) local.set(userId, devices as string[]);
      else (remote.get(server) ?? remote.set(server, {}).get(server))![userId] = devices;
    }
    const answer = await this.#directory.query(local, requester);
    const response = {
      device_keys: answer.deviceKeys as JsonObject,
      master_keys: answer.masterKeys as JsonObject,
      self_signing_keys: answer.selfSigningKeys as JsonObject,
      user_signing_keys: answer.userSigningKeys as JsonObject,
      failures: {} as JsonObject,
    };
    const timeout = remoteTimeout(getField(body, 'timeout'));
    const cached = new Map<string, readonly string[]>();
    for (const users of remote.values()) {
      for (const userId of await this.#cachedAmong(Object.keys(users), timeout)) {
        cached.set(userId, users[userId] as string[]);
        delete users[userId];
      }
    }
    if (cached.size > 0) {
      const fromCache = await this.#directory.queryCached(cached, requester);
      Object.assign(response.device_keys, fromCache.deviceKeys as JsonObject);
      Object.assign(response.master_keys, fromCache.masterKeys as JsonObject);
      Object.assign(response.self_signing_keys, fromCache.selfSigningKeys as JsonObject);
    }
    await Promise.all(
      [...remote].filter(([, users]) => Object.keys(users).length > 0).map(async ([server, users]) => {
        const result = await this.#remote(server, timeout, (f) => f.queryKeys(server, { device_keys: users }));
        if (!result.ok) {
          response.failures[server] = result.failure;
          return;
        }
        mergeUserMaps(response.device_keys, getField(result.body, 'device_keys'), server);
        mergeUserMaps(response.master_keys, getField(result.body, 'master_keys'), server);
        mergeUserMaps(response.self_signing_keys, getField(result.body, 'self_signing_keys'), server);
      }),
    );
    return response;
  }

  /** POST /keys/claim. */
  async claim(body: JsonObject): Promise<JsonObject> {
    const requested = getField(body, 'one_time_keys');
    if (!isJsonObject(requested)) throw invalidParam('one_time_keys must be an object');
    const local: Array<{ userId: string; deviceId: string; algorithm: string }> = [];
    const remote = new Map<string, JsonObject>();
    for (const [userId, devices] of Object.entries(requested)) {
      if (!isJsonObject(devices) || !Object.values(devices).every((a) => typeof a === 'string')) {
        throw invalidParam(`one_time_keys.${userId} must map device IDs to algorithms`);
      }
      const server = serverNameOf(userId);
      if (server === undefined) continue;
      if (server === this.#deps.serverName) {
        for (const [deviceId, algorithm] of Object.entries(devices)) local.push({ userId, deviceId, algorithm: algorithm as string });
      } else {
        (remote.get(server) ?? remote.set(server, {}).get(server))![userId] = devices;
      }
    }
    const response = { one_time_keys: (await this.#directory.claim(local)) as JsonObject, failures: {} as JsonObject };
    const timeout = remoteTimeout(getField(body, 'timeout'));
    await Promise.all(
      [...remote].map(async ([server, users]) => {
        const result = await this.#remote(server, timeout, (f) => f.claimKeys(server, { one_time_keys: users }));
        if (!result.ok) response.failures[server] = result.failure;
        else mergeUserMaps(response.one_time_keys, getField(result.body, 'one_time_keys'), server);
      }),
    );
    return response;
  }

  /** Forgets a deleted device's keys and tells the device's watchers. */
  async deviceDeleted(userId: string, deviceId: string): Promise<void> {
    await this.#keys.deleteDevice(userId, deviceId);
    await this.#deps.deviceLists.userChanged(userId, [{ deviceId, deleted: true }]);
  }

  /**
   * Those of `userIds` (remote users) whose keys we answer from the cache: users sharing a
   * room with a local user, once their list is current (resynchronised here when not).
   */
  async #cachedAmong(userIds: readonly string[], timeoutMs: number): Promise<string[]> {
    const federation = this.#deps.federation;
    if (federation === undefined || userIds.length === 0) return [];
    const sharing = new Set(await this.#lists.sharingRoomWithServer(userIds, this.#deps.serverName));
    const tracked = new Set(await this.#lists.trackedAmong([...sharing]));
    const answers = await Promise.all(
      userIds.map(async (userId) => {
        if (!sharing.has(userId)) return false;
        if (tracked.has(userId)) return true;
        try {
          await withTimeout(federation.resyncDeviceList(userId), timeoutMs);
          return true;
        } catch (err) {
          this.#deps.logger.info({ err, user_id: userId }, 'device list resync failed; asking the server instead');
          return false;
        }
      }),
    );
    return userIds.filter((_, i) => answers[i]);
  }

  async #remote(
    server: string,
    timeoutMs: number,
    call: (federation: E2eeFederation) => Promise<JsonObject>,
  ): Promise<{ ok: true; body: JsonObject } | { ok: false; failure: JsonObject }> {
    const federation = this.#deps.federation;
    if (federation === undefined) return { ok: false, failure: { error: 'Federation is disabled' } };
    try {
      return { ok: true, body: await withTimeout(call(federation), timeoutMs) };
    } catch (err) {
      this.#deps.logger.info({ err, server }, 'remote key request failed');
      return { ok: false, failure: { error: err instanceof Error ? err.message : String(err) } };
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function remoteTimeout(value: JsonValue | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.min(value, MAX_REMOTE_TIMEOUT_MS) : MAX_REMOTE_TIMEOUT_MS;
}

/** Copies `source[user]` into `target` for the users of `server` only: a server speaks for its own users. */
function mergeUserMaps(target: JsonObject, source: JsonValue | undefined, server: string): void {
  if (!isJsonObject(source)) return;
  for (const [userId, value] of Object.entries(source)) {
    if (serverNameOf(userId) === server && isJsonObject(value)) target[userId] = value;
  }
}
