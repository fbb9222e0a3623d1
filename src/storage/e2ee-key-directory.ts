// Local users' E2EE keys as both /keys/query (client-server) and /user/keys/query,
// /user/devices, /user/keys/claim (server-server) hand them out: stored device and
// cross-signing keys with the signatures uploaded later merged in, and devices' display
// names. Below the client API and federation, which both serve these answers. Also the
// cached keys of remote users whose device lists we track, in the same shape, for
// /keys/query to answer without asking their servers (server-server § "Device Management").
//
// Signature visibility (client-server § "Cross-signing"): a signature made by a user other
// than the key's owner (a user-signing key's signature on someone's master key) is shown
// only to the user who made it.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import { DevicesRepository } from './devices-repository.ts';
import { E2eeDeviceListsRepository } from './e2ee-device-lists-repository.ts';
import { E2eeKeysRepository, type ClaimedKey, type StoredSignature } from './e2ee-keys-repository.ts';

type JsonRecord = Record<string, unknown>;

export type CrossSigningKeyType = 'master' | 'self_signing' | 'user_signing';

export interface LocalDeviceKeysAnswer {
  /** user → device → device keys (with `unsigned.device_display_name` when named). */
  readonly deviceKeys: Record<string, Record<string, JsonRecord>>;
  readonly masterKeys: Record<string, JsonRecord>;
  readonly selfSigningKeys: Record<string, JsonRecord>;
  /** Only the viewer's own. */
  readonly userSigningKeys: Record<string, JsonRecord>;
}

export class E2eeKeyDirectory {
  readonly #keys: E2eeKeysRepository;
  readonly #devices: DevicesRepository;
  readonly #remote: E2eeDeviceListsRepository;

  constructor(db: Kysely<Database>) {
    this.#keys = new E2eeKeysRepository(db);
    this.#devices = new DevicesRepository(db);
    this.#remote = new E2eeDeviceListsRepository(db);
  }

  /**
   * Keys of remote users from the cached device lists (the caller has checked they are
   * current): devices as their servers sent them, display names in `unsigned`, and their
   * master and self-signing keys with the signatures `viewer` may see merged in.
   */
  async queryCached(wanted: ReadonlyMap<string, readonly string[]>, viewer: string): Promise<LocalDeviceKeysAnswer> {
    const userIds = [...wanted.keys()];
    const deviceKeys: Record<string, Record<string, JsonRecord>> = {};
    for (const userId of userIds) {
      const forUser: Record<string, JsonRecord> = {};
      const devices = wanted.get(userId) ?? [];
      for (const device of await this.#remote.remoteDevices(userId)) {
        if (device.keyJson === null || (devices.length > 0 && !devices.includes(device.deviceId))) continue;
        const json = parseObject(device.keyJson);
        if (device.displayName !== null) {
          json['unsigned'] = { ...(isRecord(json['unsigned']) ? json['unsigned'] : {}), device_display_name: device.displayName };
        }
        forUser[device.deviceId] = json;
      }
      deviceKeys[userId] = forUser;
    }
    const cross = await this.crossSigningKeys(userIds, viewer);
    return { deviceKeys, masterKeys: cross.master, selfSigningKeys: cross.selfSigning, userSigningKeys: {} };
  }

  /**
   * Keys of local users. `wanted` maps a user to the device IDs asked for (empty: all).
   * `viewer`: the user asking (for signature visibility and `user_signing_keys`), or
   * undefined for another server.
   */
  async query(wanted: ReadonlyMap<string, readonly string[]>, viewer: string | undefined): Promise<LocalDeviceKeysAnswer> {
    const userIds = [...wanted.keys()];
    const signatures = await this.#keys.signaturesOn(userIds);
    const deviceKeys: Record<string, Record<string, JsonRecord>> = {};
    for (const userId of userIds) deviceKeys[userId] = {};
    const stored = await this.#keys.deviceKeysOf(userIds);
    const names = new Map<string, string | null>();
    for (const userId of userIds) {
      for (const device of await this.#devices.list(userId)) names.set(`${userId}\u0000${device.deviceId}`, device.displayName);
    }
    for (const row of stored) {
      const devices = wanted.get(row.userId) ?? [];
      if (devices.length > 0 && !devices.includes(row.deviceId)) continue;
      const key = `${row.userId}\u0000${row.deviceId}`;
      // Keys of a device that no longer exists are not handed out.
      if (!names.has(key)) continue;
      const json = withSignatures(parseObject(row.keyJson), row.userId, row.deviceId, signatures, viewer);
      const name = names.get(key);
      const unsigned = isRecord(json['unsigned']) ? { ...json['unsigned'] } : {};
      if (typeof name === 'string') unsigned['device_display_name'] = name;
      if (Object.keys(unsigned).length > 0) json['unsigned'] = unsigned;
      const forUser = deviceKeys[row.userId];
      if (forUser !== undefined) forUser[row.deviceId] = json;
    }
    const cross = await this.crossSigningKeys(userIds, viewer, signatures);
    const userSigningKeys: Record<string, JsonRecord> = {};
    if (viewer !== undefined && cross.userSigning[viewer] !== undefined) userSigningKeys[viewer] = cross.userSigning[viewer];
    return { deviceKeys, masterKeys: cross.master, selfSigningKeys: cross.selfSigning, userSigningKeys };
  }

  /** Cross-signing keys of `userIds` by type, signatures merged. */
  async crossSigningKeys(
    userIds: readonly string[],
    viewer: string | undefined,
    knownSignatures?: readonly StoredSignature[],
  ): Promise<{ master: Record<string, JsonRecord>; selfSigning: Record<string, JsonRecord>; userSigning: Record<string, JsonRecord> }> {
    const signatures = knownSignatures ?? (await this.#keys.signaturesOn(userIds));
    const master: Record<string, JsonRecord> = {};
    const selfSigning: Record<string, JsonRecord> = {};
    const userSigning: Record<string, JsonRecord> = {};
    for (const row of await this.#keys.crossSigningKeysOf(userIds)) {
      const json = withSignatures(parseObject(row.keyJson), row.userId, row.publicKey, signatures, viewer);
      if (row.keyType === 'master') master[row.userId] = json;
      else if (row.keyType === 'self_signing') selfSigning[row.userId] = json;
      else if (row.keyType === 'user_signing') userSigning[row.userId] = json;
    }
    return { master, selfSigning, userSigning };
  }

  /**
   * Claims a key for each (user, device, algorithm): a one-time key, else the fallback key.
   * Devices with neither are left out, as the spec's claim answers do.
   */
  async claim(requests: ReadonlyArray<{ userId: string; deviceId: string; algorithm: string }>): Promise<Record<string, Record<string, Record<string, unknown>>>> {
    const answer: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const { userId, deviceId, algorithm } of requests) {
      const claimed: ClaimedKey | undefined =
        (await this.#keys.claimOneTimeKey(userId, deviceId, algorithm)) ?? (await this.#keys.claimFallbackKey(userId, deviceId, algorithm));
      if (claimed === undefined) continue;
      const forUser = (answer[userId] ??= {});
      forUser[deviceId] = { [claimed.keyId]: parseValue(claimed.keyJson) };
    }
    return answer;
  }
}

/** Adds uploaded signatures on the key `keyId` of `owner` that `viewer` may see. */
function withSignatures(
  json: JsonRecord,
  owner: string,
  keyId: string,
  signatures: readonly StoredSignature[],
  viewer: string | undefined,
): JsonRecord {
  const relevant = signatures.filter(
    (s) => s.targetUserId === owner && s.targetKeyId === keyId && (s.signerUserId === owner || s.signerUserId === viewer),
  );
  if (relevant.length === 0) return json;
  const merged: Record<string, Record<string, unknown>> = {};
  const existing = json['signatures'];
  if (isRecord(existing)) {
    for (const [user, sigs] of Object.entries(existing)) if (isRecord(sigs)) merged[user] = { ...sigs };
  }
  for (const s of relevant) (merged[s.signerUserId] ??= {})[s.signerKeyId] = s.signature;
  return { ...json, signatures: merged };
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseObject(text: string): JsonRecord {
  const value = parseValue(text);
  return isRecord(value) ? value : {};
}

function parseValue(text: string): unknown {
  return JSON.parse(text) as unknown;
}
