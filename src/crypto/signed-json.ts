// Signing JSON (content/appendices.md § "Signing Details", § "Checking for a Signature").
// Signature code takes keys and never fetches them: callers look keys up first.

import { canonicalJsonBytes, CanonicalJsonError } from '../rooms/canonical-json.ts';
import { encodeBase64, tryDecodeBase64 } from '../rooms/base64.ts';
import { getField, isJsonObject } from '../rooms/json.ts';
import type { JsonObject } from '../rooms/json.ts';
import { ed25519Verify } from './ed25519.ts';
import type { SigningKey } from './signing-key.ts';

/** The object without `signatures` and `unsigned`: what a signature covers. */
export function signableContent(obj: JsonObject): JsonObject {
  const copy: JsonObject = { ...obj };
  delete copy['signatures'];
  delete copy['unsigned'];
  return copy;
}

/** The bytes a signature covers; throws `CanonicalJsonError` if `obj` is not canonical-encodable. */
export function signableBytes(obj: JsonObject): Uint8Array {
  return canonicalJsonBytes(signableContent(obj));
}

/**
 * Sign `obj` as `serverName` with `key`, returning a copy with the signature merged into any
 * existing `signatures` (other entities' and other keys' signatures are kept) and `unsigned`
 * left as it was.
 */
export function signJson<T extends JsonObject>(obj: T, serverName: string, key: SigningKey): T {
  const signature = encodeBase64(key.sign(signableBytes(obj)));
  const existing = getField(obj, 'signatures');
  const signatures: JsonObject = isJsonObject(existing) ? { ...existing } : {};
  const mine = getField(signatures, serverName);
  signatures[serverName] = { ...(isJsonObject(mine) ? mine : {}), [key.keyId]: signature };
  return { ...obj, signatures };
}

/** The `signatures[entity]` entries whose values are strings (keyId → Base64 signature). */
export function signaturesOf(obj: JsonObject, entity: string): Record<string, string> {
  const signatures = getField(obj, 'signatures');
  if (!isJsonObject(signatures)) return {};
  const forEntity = getField(signatures, entity);
  if (!isJsonObject(forEntity)) return {};
  // Object.fromEntries defines own properties, so a peer's `__proto__` key stays a key.
  return Object.fromEntries(
    Object.entries(forEntity).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Key IDs whose algorithm we can verify (appendix step 2 drops the others). */
export function isSupportedKeyId(keyId: string): boolean {
  return keyId.startsWith('ed25519:');
}

/**
 * Whether `obj` carries a valid signature by `entity` under `keyId`, checked with
 * `publicKey`. Never throws: a missing, undecodable or wrong signature, or content that
 * cannot be canonically encoded, is `false`.
 */
export function verifyJsonSignature(obj: JsonObject, entity: string, keyId: string, publicKey: Uint8Array): boolean {
  if (!isSupportedKeyId(keyId)) return false;
  const encoded = signaturesOf(obj, entity)[keyId];
  if (encoded === undefined) return false;
  const signature = tryDecodeBase64(encoded);
  if (signature === undefined) return false;
  let bytes: Uint8Array;
  try {
    bytes = signableBytes(obj);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
  return ed25519Verify(publicKey, bytes, signature);
}

export type EntitySignatureCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'no-signatures' | 'no-supported-key' | 'no-known-key' | 'bad-signature' };

/**
 * The appendix's "Checking for a Signature" for one entity: succeeds when some signature by
 * `entity` with a supported algorithm verifies under a key that `lookupKey` knows.
 */
export function checkEntitySignature(
  obj: JsonObject,
  entity: string,
  lookupKey: (keyId: string) => Uint8Array | undefined,
): EntitySignatureCheck {
  const signatures = signaturesOf(obj, entity);
  const keyIds = Object.keys(signatures);
  if (keyIds.length === 0) return { ok: false, reason: 'no-signatures' };
  const supported = keyIds.filter(isSupportedKeyId);
  if (supported.length === 0) return { ok: false, reason: 'no-supported-key' };
  let anyKnown = false;
  for (const keyId of supported) {
    const publicKey = lookupKey(keyId);
    if (publicKey === undefined) continue;
    anyKnown = true;
    if (verifyJsonSignature(obj, entity, keyId, publicKey)) return { ok: true, keyId };
  }
  return { ok: false, reason: anyKnown ? 'bad-signature' : 'no-known-key' };
}
