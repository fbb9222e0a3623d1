// A server's key document (data/api/server-server/definitions/keys.yaml), as received from
// the server itself (`GET /_matrix/key/v2/server`) or from a notary
// (`/_matrix/key/v2/query`): checked for shape, then for the origin's self-signature and,
// when it came through a notary, for the notary's signature under a key we trust.

import { canonicalJson } from '../rooms/canonical-json.ts';
import { tryDecodeBase64 } from '../rooms/base64.ts';
import { getField, isJsonObject } from '../rooms/json.ts';
import type { JsonObject, JsonValue } from '../rooms/json.ts';
import { checkEntitySignature, isSupportedKeyId } from './signed-json.ts';
import { ED25519_PUBLIC_KEY_LENGTH } from './ed25519.ts';

export class KeyResponseError extends Error {
  override name = 'KeyResponseError';
}

export interface OldVerifyKey {
  /** Unpadded Base64. */
  readonly key: string;
  readonly expiredTs: number;
}

/** A key document that passed its checks. Keys of algorithms we cannot verify are left out. */
export interface ServerKeyDocument {
  readonly serverName: string;
  readonly validUntilTs: number;
  /** keyId → unpadded Base64 public key. */
  readonly verifyKeys: ReadonlyMap<string, string>;
  readonly oldVerifyKeys: ReadonlyMap<string, OldVerifyKey>;
  /** The document as received, in canonical JSON (what its signatures cover, plus them). */
  readonly json: string;
}

function publicKeyBytes(base64: string): Uint8Array | undefined {
  const bytes = tryDecodeBase64(base64);
  return bytes !== undefined && bytes.length === ED25519_PUBLIC_KEY_LENGTH ? bytes : undefined;
}

function isTimestamp(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks a key document for `expectedServer`: its shape, and that the server signed it with
 * one of the keys it lists in `verify_keys` (Synapse does the same: at least one, since a
 * notary may add keys of its own to the signatures). Throws `KeyResponseError`.
 */
export function parseServerKeyDocument(value: JsonValue, expectedServer: string): ServerKeyDocument {
  if (!isJsonObject(value)) throw new KeyResponseError('a key document must be a JSON object');
  const serverName = getField(value, 'server_name');
  if (serverName !== expectedServer) {
    throw new KeyResponseError(`key document is for ${JSON.stringify(serverName)}, expected ${expectedServer}`);
  }
  const validUntilTs = getField(value, 'valid_until_ts');
  if (!isTimestamp(validUntilTs)) throw new KeyResponseError('valid_until_ts must be a non-negative integer');

  const verifyKeysField = getField(value, 'verify_keys');
  if (!isJsonObject(verifyKeysField)) throw new KeyResponseError('verify_keys must be an object');
  const verifyKeys = new Map<string, string>();
  for (const [keyId, entry] of Object.entries(verifyKeysField)) {
    if (!isSupportedKeyId(keyId)) continue;
    const key = isJsonObject(entry) ? getField(entry, 'key') : undefined;
    if (typeof key !== 'string' || publicKeyBytes(key) === undefined) {
      throw new KeyResponseError(`verify_keys.${keyId} is not an ed25519 public key`);
    }
    verifyKeys.set(keyId, key);
  }

  const oldVerifyKeys = new Map<string, OldVerifyKey>();
  const oldField = getField(value, 'old_verify_keys');
  if (oldField !== undefined) {
    if (!isJsonObject(oldField)) throw new KeyResponseError('old_verify_keys must be an object');
    for (const [keyId, entry] of Object.entries(oldField)) {
      if (!isSupportedKeyId(keyId) || verifyKeys.has(keyId)) continue;
      const key = isJsonObject(entry) ? getField(entry, 'key') : undefined;
      const expiredTs = isJsonObject(entry) ? getField(entry, 'expired_ts') : undefined;
      if (typeof key !== 'string' || publicKeyBytes(key) === undefined || !isTimestamp(expiredTs)) {
        throw new KeyResponseError(`old_verify_keys.${keyId} needs an ed25519 key and expired_ts`);
      }
      oldVerifyKeys.set(keyId, { key, expiredTs });
    }
  }

  const selfSigned = checkEntitySignature(value, expectedServer, (keyId) => {
    const key = verifyKeys.get(keyId);
    return key === undefined ? undefined : publicKeyBytes(key);
  });
  if (!selfSigned.ok) {
    throw new KeyResponseError(`key document for ${expectedServer} is not signed by the server (${selfSigned.reason})`);
  }

  let json: string;
  try {
    json = canonicalJson(value);
  } catch {
    // Unreachable after a good signature (the signed bytes were canonical), but cheap to keep.
    throw new KeyResponseError('key document cannot be encoded as canonical JSON');
  }
  return { serverName: expectedServer, validUntilTs, verifyKeys, oldVerifyKeys, json };
}

/**
 * Checks that `document` carries `notary`'s signature under one of `notaryKeys` (keyId →
 * raw public key), the keys the operator configured for that notary. Throws `KeyResponseError`.
 */
export function checkNotarySignature(document: JsonObject, notary: string, notaryKeys: ReadonlyMap<string, Uint8Array>): void {
  const result = checkEntitySignature(document, notary, (keyId) => notaryKeys.get(keyId));
  if (!result.ok) throw new KeyResponseError(`key document is not signed by notary ${notary} (${result.reason})`);
}
