// Event hashes (content/server-server-api.md § "Calculating the content hash for an event",
// § "Calculating the reference hash for an event"). Pure computation: node:crypto's SHA-256.

import { createHash } from 'node:crypto';
import { canonicalJsonBytes, CanonicalJsonError } from './canonical-json.ts';
import { encodeBase64, tryDecodeBase64 } from './base64.ts';
import { getField, isJsonObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { redactEvent } from './redaction.ts';
import type { RoomVersionRules } from './room-versions.ts';

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function without(event: JsonObject, keys: readonly string[]): JsonObject {
  const copy: JsonObject = { ...event };
  for (const key of keys) delete copy[key];
  return copy;
}

/**
 * SHA-256 of the canonical JSON of the event without `unsigned`, `signatures` and `hashes`:
 * it covers the unredacted event. Throws `CanonicalJsonError` if the event cannot be encoded.
 */
export function computeContentHash(event: JsonObject): Uint8Array {
  return sha256(canonicalJsonBytes(without(event, ['unsigned', 'signatures', 'hashes'])));
}

/** A copy of the event with `hashes.sha256` set to its content hash (other hashes kept). */
export function withContentHash(event: JsonObject): JsonObject {
  const hash = encodeBase64(computeContentHash(event));
  const existing = getField(event, 'hashes');
  return { ...event, hashes: { ...(isJsonObject(existing) ? existing : {}), sha256: hash } };
}

/**
 * Whether `hashes.sha256` matches the event's content hash. Missing, malformed or
 * unencodable is `false`: the receiver then keeps only the redacted copy
 * (§ "Validating hashes and signatures on received events").
 */
export function checkContentHash(event: JsonObject): boolean {
  const hashes = getField(event, 'hashes');
  const claimed = isJsonObject(hashes) ? getField(hashes, 'sha256') : undefined;
  if (typeof claimed !== 'string') return false;
  const expected = tryDecodeBase64(claimed);
  if (expected === undefined) return false;
  let actual: Uint8Array;
  try {
    actual = computeContentHash(event);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
  return bytesEqual(actual, expected);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The reference hash: SHA-256 of the canonical JSON of the redacted event without
 * `signatures` and `unsigned`. The event must be in its federation form (for rooms v3+,
 * without an `event_id` field, which redaction would otherwise keep and hash).
 * Throws `CanonicalJsonError` if the event cannot be encoded.
 */
export function computeReferenceHash(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  return sha256(canonicalJsonBytes(without(redactEvent(event, rules), ['signatures', 'unsigned'])));
}
