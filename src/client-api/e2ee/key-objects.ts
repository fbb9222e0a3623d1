// The key objects clients upload (client-server § "End-to-End Encryption": DeviceKeys,
// one-time and fallback keys, CrossSigningKey), checked before anything is stored: shape,
// owner, and the signatures the spec requires. Errors are the spec's: 400 M_INVALID_PARAM
// for a malformed or misattributed key, 400 M_INVALID_SIGNATURE for a signature that does not
// verify.

import { verifyJsonSignature } from '../../crypto/signed-json.ts';
import { invalidParam, MatrixError } from '../../http/matrix-error.ts';
import { tryDecodeBase64 } from '../../rooms/base64.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';

export function invalidSignature(message: string): MatrixError {
  return new MatrixError(400, 'M_INVALID_SIGNATURE', message);
}

/** An ed25519 public key in unpadded base64 (32 bytes), or undefined. */
export function ed25519PublicKey(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = tryDecodeBase64(text);
  return bytes?.length === 32 ? bytes : undefined;
}

/**
 * A device's keys as uploaded to /keys/upload: for `userId`'s `deviceId`, with string
 * `algorithms` and `keys`, an `ed25519:<device>` key, and self-signed with it.
 */
export function checkDeviceKeys(value: JsonValue | undefined, userId: string, deviceId: string): JsonObject {
  if (!isJsonObject(value)) throw invalidParam('device_keys must be an object');
  if (getField(value, 'user_id') !== userId) throw invalidParam('device_keys.user_id does not match the requesting user');
  if (getField(value, 'device_id') !== deviceId) throw invalidParam('device_keys.device_id does not match the requesting device');
  const algorithms = getField(value, 'algorithms');
  if (!Array.isArray(algorithms) || !algorithms.every((a) => typeof a === 'string')) {
    throw invalidParam('device_keys.algorithms must be an array of strings');
  }
  const keys = getField(value, 'keys');
  if (!isJsonObject(keys) || !Object.values(keys).every((k) => typeof k === 'string')) {
    throw invalidParam('device_keys.keys must map key IDs to strings');
  }
  const signingKeyId = `ed25519:${deviceId}`;
  const publicKey = ed25519PublicKey(getField(keys, signingKeyId));
  if (publicKey === undefined) throw invalidParam(`device_keys.keys must hold the device's ${signingKeyId} key`);
  if (!isJsonObject(getField(value, 'signatures'))) throw invalidParam('device_keys.signatures must be an object');
  if (!verifyJsonSignature(value, userId, signingKeyId, publicKey)) {
    throw invalidSignature(`device_keys is not signed by ${signingKeyId}`);
  }
  return value;
}

export interface UploadedKey {
  readonly algorithm: string;
  readonly keyId: string;
  readonly value: JsonValue;
}

/** `one_time_keys` / `fallback_keys`: `<algorithm>:<key id>` → a string or a signed key object. */
export function checkKeyMap(value: JsonValue | undefined, field: string): UploadedKey[] {
  if (value === undefined) return [];
  if (!isJsonObject(value)) throw invalidParam(`${field} must be an object`);
  const keys: UploadedKey[] = [];
  for (const [id, key] of Object.entries(value)) {
    const colon = id.indexOf(':');
    if (colon <= 0 || colon === id.length - 1) throw invalidParam(`${field}: key ID ${JSON.stringify(id)} is not <algorithm>:<key id>`);
    // keys.yaml OneTimeKeys: an unsigned key is a string; a signed one `{key, signatures}`.
    if (typeof key !== 'string' && !(isJsonObject(key) && typeof getField(key, 'key') === 'string' && isJsonObject(getField(key, 'signatures')))) {
      throw invalidParam(`${field}: ${id} must be a string or an object with key and signatures`);
    }
    keys.push({ algorithm: id.slice(0, colon), keyId: id.slice(colon + 1), value: key });
  }
  return keys;
}

export type CrossSigningUsage = 'master' | 'self_signing' | 'user_signing';

export interface CheckedCrossSigningKey {
  readonly json: JsonObject;
  /** The unpadded base64 ed25519 public key (also the key ID's suffix). */
  readonly publicKey: string;
}

/** A CrossSigningKey of `userId` with `usage`, holding exactly one ed25519 key. */
export function checkCrossSigningKey(value: JsonValue | undefined, userId: string, usage: CrossSigningUsage, field: string): CheckedCrossSigningKey {
  if (!isJsonObject(value)) throw invalidParam(`${field} must be an object`);
  if (getField(value, 'user_id') !== userId) throw invalidParam(`${field}.user_id must be the requesting user`);
  const usages = getField(value, 'usage');
  if (!Array.isArray(usages) || !usages.includes(usage)) throw invalidParam(`${field}.usage must include ${usage}`);
  const keys = getField(value, 'keys');
  const entries = isJsonObject(keys) ? Object.entries(keys) : [];
  const only = entries[0];
  if (entries.length !== 1 || only === undefined) throw invalidParam(`${field}.keys must hold exactly one key`);
  const [keyId, publicKey] = only;
  if (!keyId.startsWith('ed25519:') || typeof publicKey !== 'string' || keyId !== `ed25519:${publicKey}` || ed25519PublicKey(publicKey) === undefined) {
    throw invalidParam(`${field}.keys must be {"ed25519:<public key>": "<public key>"}`);
  }
  const signatures = getField(value, 'signatures');
  if (signatures !== undefined && !isJsonObject(signatures)) throw invalidParam(`${field}.signatures must be an object`);
  return { json: value, publicKey };
}

/** Whether `json` carries a valid signature by `signer`'s ed25519 key `publicKey` (unpadded base64 key ID suffix). */
export function signedBy(json: JsonObject, signer: string, keyIdSuffix: string, publicKey: string): boolean {
  const bytes = ed25519PublicKey(publicKey);
  return bytes !== undefined && verifyJsonSignature(json, signer, `ed25519:${keyIdSuffix}`, bytes);
}

/** The `ed25519:<device>` public key of stored device keys, if any. */
export function deviceSigningKey(deviceKeys: JsonObject, deviceId: string): string | undefined {
  const keys = getField(deviceKeys, 'keys');
  const key = isJsonObject(keys) ? getField(keys, `ed25519:${deviceId}`) : undefined;
  return typeof key === 'string' ? key : undefined;
}
