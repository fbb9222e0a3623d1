// Cross-signing (client-server § "Cross-signing"): uploading a user's master, self-signing
// and user-signing keys (cross_signing.yaml `uploadCrossSigningKeys`), and signatures made
// with them (`uploadCrossSigningSignatures`), each signature verified before it is stored:
//   - a user's device key, signed by that user's self-signing key;
//   - a user's master key, signed by one of that user's devices;
//   - another user's master key, signed by the signer's user-signing key.
// Problems with one key are reported per key in `failures`; the others are stored.
// Other servers sharing a room hear of every change with the signatures merged in: new keys
// and signatures on the master key as `m.signing_key_update`, signatures on devices as
// `m.device_list_update` (server-server § "Device Management"), as Synapse sends them.

import { MatrixError, missingParam } from '../../http/matrix-error.ts';
import { signableContent } from '../../crypto/signed-json.ts';
import { canonicalJson } from '../../rooms/canonical-json.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { E2eeKeyDirectory } from '../../storage/e2ee-key-directory.ts';
import { E2eeKeysRepository, type StoredSignature } from '../../storage/e2ee-keys-repository.ts';
import type { DeviceListService } from './device-lists.ts';
import { checkCrossSigningKey, deviceSigningKey, invalidSignature, signedBy, type CheckedCrossSigningKey, type CrossSigningUsage } from './key-objects.ts';

const FIELDS: ReadonlyArray<readonly [string, CrossSigningUsage]> = [
  ['master_key', 'master'],
  ['self_signing_key', 'self_signing'],
  ['user_signing_key', 'user_signing'],
];

export interface CrossSigningDeps {
  readonly db: StoaDatabase;
  readonly deviceLists: DeviceListService;
  readonly clock: () => number;
}

export class CrossSigningService {
  readonly #deps: CrossSigningDeps;
  readonly #keys: E2eeKeysRepository;
  readonly #directory: E2eeKeyDirectory;

  constructor(deps: CrossSigningDeps) {
    this.#deps = deps;
    this.#keys = new E2eeKeysRepository(deps.db.kysely);
    this.#directory = new E2eeKeyDirectory(deps.db.kysely);
  }

  /**
   * Checks an upload and says whether it needs user-interactive auth: not when the user has
   * no master key yet, nor when every key uploaded equals the stored one (a retry).
   */
  async prepareUpload(userId: string, body: JsonObject): Promise<{ readonly needsAuth: boolean; readonly keys: ReadonlyMap<CrossSigningUsage, CheckedCrossSigningKey> }> {
    const uploaded = new Map<CrossSigningUsage, CheckedCrossSigningKey>();
    for (const [field, usage] of FIELDS) {
      const value = getField(body, field);
      if (value !== undefined && value !== null) uploaded.set(usage, checkCrossSigningKey(value, userId, usage, field));
    }
    const stored = new Map((await this.#keys.crossSigningKeysOf([userId])).map((k) => [k.keyType as CrossSigningUsage, k]));
    const master = uploaded.get('master') ?? (stored.has('master') ? { publicKey: stored.get('master')!.publicKey, json: {} } : undefined);
    if (master === undefined && uploaded.size > 0) throw missingParam('No master signing key is available');
    for (const usage of ['self_signing', 'user_signing'] as const) {
      const key = uploaded.get(usage);
      if (key !== undefined && master !== undefined && !signedBy(key.json, userId, master.publicKey, master.publicKey)) {
        throw invalidSignature(`The ${usage} key is not signed by the master key`);
      }
    }
    const storedMaster = stored.get('master');
    const unchanged = [...uploaded].every(([usage, key]) => {
      const existing = stored.get(usage);
      return existing !== undefined && canonicalJson(JSON.parse(existing.keyJson)) === canonicalJson(key.json);
    });
    return { needsAuth: storedMaster !== undefined && !unchanged, keys: uploaded };
  }

  /** Stores checked keys (after UIA when needed) and tells the user's watchers. */
  async storeKeys(userId: string, keys: ReadonlyMap<CrossSigningUsage, CheckedCrossSigningKey>): Promise<void> {
    if (keys.size === 0) return;
    await this.#keys.setCrossSigningKeys(
      userId,
      [...keys].map(([usage, key]) => ({ keyType: usage, publicKey: key.publicKey, keyJson: JSON.stringify(key.json) })),
      this.#deps.clock(),
    );
    await this.#deps.deviceLists.userChanged(userId, [], await this.#signingKeyUpdate(userId, keys.has('master'), keys.has('self_signing')));
  }

  /** The `m.signing_key_update` fields for the keys named, as stored with signatures merged. */
  async #signingKeyUpdate(userId: string, master: boolean, selfSigning: boolean): Promise<JsonObject | undefined> {
    if (!master && !selfSigning) return undefined;
    const stored = await this.#directory.crossSigningKeys([userId], undefined);
    const update: JsonObject = {};
    const masterKey = stored.master[userId];
    const selfSigningKey = stored.selfSigning[userId];
    if (master && masterKey !== undefined) update['master_key'] = masterKey as JsonObject;
    if (selfSigning && selfSigningKey !== undefined) update['self_signing_key'] = selfSigningKey as JsonObject;
    return Object.keys(update).length > 0 ? update : undefined;
  }

  /** POST /keys/signatures/upload: stores what verifies; `failures` for the rest. */
  async uploadSignatures(signer: string, body: JsonObject): Promise<JsonObject> {
    const failures: Record<string, Record<string, JsonObject>> = {};
    const accepted: StoredSignature[] = [];
    /** Per user whose keys gained signatures: their own devices signed, and whether their master key was. */
    const changed = new Map<string, { devices: Set<string>; master: boolean }>();
    const signerKeys = new Map((await this.#keys.crossSigningKeysOf([signer])).map((k) => [k.keyType, k]));
    for (const [targetUser, byKey] of Object.entries(body)) {
      if (!isJsonObject(byKey)) {
        (failures[targetUser] ??= {})['*'] = failure('M_INVALID_PARAM', 'Expected an object of signed keys');
        continue;
      }
      const targetCross = new Map((await this.#keys.crossSigningKeysOf([targetUser])).map((k) => [k.publicKey, k]));
      for (const [keyId, signed] of Object.entries(byKey)) {
        try {
          const signatures = await this.#checkSignedKey(signer, targetUser, keyId, signed, signerKeys, targetCross);
          accepted.push(...signatures);
          if (signatures.length > 0) {
            const entry = changed.get(targetUser) ?? changed.set(targetUser, { devices: new Set(), master: false }).get(targetUser)!;
            // Signatures by the owner are public; another user's (user-signing) only theirs.
            if (targetUser === signer && targetCross.get(keyId)?.keyType === 'master') entry.master = true;
            else if (targetUser === signer) entry.devices.add(keyId);
          }
        } catch (error) {
          if (!(error instanceof MatrixError)) throw error;
          (failures[targetUser] ??= {})[keyId] = failure(error.errcode, error.message);
        }
      }
    }
    await this.#keys.addSignatures(accepted);
    for (const [user, { devices, master }] of changed) {
      await this.#deps.deviceLists.userChanged(
        user,
        [...devices].map((deviceId) => ({ deviceId, deleted: false })),
        await this.#signingKeyUpdate(user, master, false),
      );
    }
    return { failures: failures as JsonObject };
  }

  async #checkSignedKey(
    signer: string,
    targetUser: string,
    keyId: string,
    signed: JsonValue,
    signerKeys: ReadonlyMap<string, { publicKey: string }>,
    targetCross: ReadonlyMap<string, { keyType: string; keyJson: string }>,
  ): Promise<StoredSignature[]> {
    if (!isJsonObject(signed)) throw new MatrixError(400, 'M_INVALID_PARAM', 'The signed key must be an object');
    const crossKey = targetCross.get(keyId);
    const deviceKeys = crossKey === undefined ? await this.#keys.findDeviceKeys(targetUser, keyId) : undefined;
    const storedJson = crossKey?.keyJson ?? deviceKeys?.keyJson;
    if (storedJson === undefined) throw new MatrixError(404, 'M_NOT_FOUND', `No key ${keyId} of ${targetUser}`);
    const stored = JSON.parse(storedJson) as JsonObject;
    if (canonicalJson(signableContent(stored)) !== canonicalJson(signableContent(signed))) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'The signed object does not match the stored key');
    }

    // Which of the signer's keys may sign this target, as `<key id suffix>` → public key.
    const allowed = new Map<string, string>();
    if (targetUser === signer && deviceKeys !== undefined) {
      const selfSigning = signerKeys.get('self_signing');
      if (selfSigning !== undefined) allowed.set(selfSigning.publicKey, selfSigning.publicKey);
    } else if (targetUser === signer && crossKey?.keyType === 'master') {
      for (const device of await this.#keys.deviceKeysOf([signer])) {
        const key = deviceSigningKey(JSON.parse(device.keyJson) as JsonObject, device.deviceId);
        if (key !== undefined) allowed.set(device.deviceId, key);
      }
    } else if (targetUser !== signer && crossKey?.keyType === 'master') {
      const userSigning = signerKeys.get('user_signing');
      if (userSigning !== undefined) allowed.set(userSigning.publicKey, userSigning.publicKey);
    } else {
      throw new MatrixError(400, 'M_INVALID_PARAM', `${signer} may not sign key ${keyId} of ${targetUser}`);
    }

    const signatures = signaturesBy(signed, signer);
    const already = signaturesBy(stored, signer);
    const fresh: StoredSignature[] = [];
    let seen = 0;
    for (const [signerKeyId, signature] of Object.entries(signatures)) {
      if (typeof signature !== 'string' || !signerKeyId.startsWith('ed25519:')) continue;
      seen += 1;
      if (already[signerKeyId] === signature) continue;
      const suffix = signerKeyId.slice('ed25519:'.length);
      const publicKey = allowed.get(suffix);
      if (publicKey === undefined || !signedBy(signed, signer, suffix, publicKey)) {
        throw invalidSignature(`Signature ${signerKeyId} of ${signer} on ${keyId} does not verify`);
      }
      fresh.push({ targetUserId: targetUser, targetKeyId: keyId, signerUserId: signer, signerKeyId, signature });
    }
    if (seen === 0) throw invalidSignature(`No signature by ${signer} on ${keyId}`);
    return fresh;
  }
}

function signaturesBy(obj: JsonObject, signer: string): JsonObject {
  const all = getField(obj, 'signatures');
  const mine = isJsonObject(all) ? getField(all, signer) : undefined;
  return isJsonObject(mine) ? mine : {};
}

function failure(errcode: string, error: string): JsonObject {
  return { errcode, error };
}
