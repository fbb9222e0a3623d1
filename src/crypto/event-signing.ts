// Signing events and checking received ones (content/server-server-api.md § "Signing
// Events": "Adding hashes and signatures to outgoing events", "Validating hashes and
// signatures on received events"). Keys are passed in, never fetched here.

import { checkContentHash, withContentHash } from '../rooms/hashes.ts';
import { serverNameOf } from '../rooms/identifiers.ts';
import { getField, isJsonObject } from '../rooms/json.ts';
import type { JsonObject } from '../rooms/json.ts';
import { redactEvent } from '../rooms/redaction.ts';
import type { RoomVersionRules } from '../rooms/room-versions.ts';
import { isSupportedKeyId, signaturesOf, signJson, verifyJsonSignature } from './signed-json.ts';
import type { SigningKey } from './signing-key.ts';

/**
 * Add the content hash, sign the redacted event as `serverName`, and return the full event
 * with `hashes` and the merged `signatures` (`unsigned` untouched).
 */
export function signEvent(event: JsonObject, serverName: string, key: SigningKey, rules: RoomVersionRules): JsonObject {
  const hashed = withContentHash(event);
  const signed = signJson(redactEvent(hashed, rules), serverName, key);
  const signatures = getField(signed, 'signatures');
  return { ...hashed, signatures: isJsonObject(signatures) ? signatures : {} };
}

/** Whether `serverName`'s signature under `keyId` verifies over the redacted event. Never throws. */
export function verifyEventSignature(
  event: JsonObject,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  rules: RoomVersionRules,
): boolean {
  return verifyJsonSignature(redactEvent(event, rules), serverName, keyId, publicKey);
}

export type EventHashCheck = 'ok' | 'hash-mismatch';

/** `hash-mismatch` (also for a missing or malformed hash) means: keep only the redacted copy. */
export function checkEventHashes(event: JsonObject): EventHashCheck {
  return checkContentHash(event) ? 'ok' : 'hash-mismatch';
}

/**
 * The servers whose signatures an event needs: the sender's server and, in rooms v1–v2,
 * the server named in the event ID when it differs. Third-party-invite exceptions are the
 * caller's decision (they depend on the invite, not on the event alone).
 */
export function requiredSignersOf(event: JsonObject, rules: RoomVersionRules): string[] {
  const servers = new Set<string>();
  const sender = getField(event, 'sender');
  const senderServer = typeof sender === 'string' ? serverNameOf(sender) : undefined;
  if (senderServer !== undefined && senderServer !== '') servers.add(senderServer);
  if (rules.signatures.checkEventIdServer) {
    const eventId = getField(event, 'event_id');
    const idServer = typeof eventId === 'string' ? serverNameOf(eventId) : undefined;
    if (idServer !== undefined && idServer !== '') servers.add(idServer);
  }
  return [...servers];
}

/** Looks up a server's verify key, or `undefined` when unknown or expired for this event. */
export type VerifyKeyLookup = (serverName: string, keyId: string) => Uint8Array | undefined;

export type EventSignatureCheck =
  | { ok: true }
  | { ok: false; server: string; reason: 'no-signer' | 'no-known-key' | 'bad-signature' };

/**
 * Checks the signatures of every required server on the redacted event: at least one
 * signature from a known key per server, and every signature from a known key valid
 * (unknown and expired keys are skipped, as the spec says). Only the keys the caller has
 * looked up are used; fetch them first with `signaturesOf(event, server)`'s key IDs.
 */
export function checkEventSignatures(
  event: JsonObject,
  rules: RoomVersionRules,
  lookupKey: VerifyKeyLookup,
  servers: readonly string[] = requiredSignersOf(event, rules),
): EventSignatureCheck {
  if (servers.length === 0) return { ok: false, server: '', reason: 'no-signer' };
  const redacted = redactEvent(event, rules);
  for (const server of servers) {
    let verified = 0;
    for (const keyId of Object.keys(signaturesOf(redacted, server))) {
      if (!isSupportedKeyId(keyId)) continue;
      const publicKey = lookupKey(server, keyId);
      if (publicKey === undefined) continue;
      if (!verifyJsonSignature(redacted, server, keyId, publicKey)) return { ok: false, server, reason: 'bad-signature' };
      verified++;
    }
    if (verified === 0) return { ok: false, server, reason: 'no-known-key' };
  }
  return { ok: true };
}
