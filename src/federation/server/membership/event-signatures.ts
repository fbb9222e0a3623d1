// Signature checks and countersigning of membership events handled outside the room
// pipeline: an invite for a room we may not know, a join one of our users authorised.

import { checkEventSignatures, requiredSignersOf } from '../../../crypto/event-signing.ts';
import { isSupportedKeyId, signaturesOf, signJson } from '../../../crypto/signed-json.ts';
import type { SigningKey } from '../../../crypto/signing-key.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { redactEvent } from '../../../rooms/redaction.ts';
import type { RoomVersionRules } from '../../../rooms/room-versions.ts';
import type { RemoteKeyLookup } from '../../../roomserver/index.ts';

/** Whether the servers the event needs signatures from (its sender's) all signed it. */
export async function hasRequiredSignatures(event: JsonObject, rules: RoomVersionRules, keys: RemoteKeyLookup): Promise<boolean> {
  const servers = requiredSignersOf(event, rules);
  const ts = getField(event, 'origin_server_ts');
  const validAt = rules.signatures.enforceKeyValidity && typeof ts === 'number' ? ts : undefined;
  const found = new Map<string, Uint8Array>();
  for (const server of servers) {
    for (const keyId of Object.keys(signaturesOf(event, server))) {
      if (!isSupportedKeyId(keyId)) continue;
      const key = await keys.verifyKey(server, keyId, validAt).catch(() => undefined);
      if (key !== undefined) found.set(`${server}\u0000${keyId}`, key);
    }
  }
  return checkEventSignatures(event, rules, (server, keyId) => found.get(`${server}\u0000${keyId}`), servers).ok;
}

/** The event with our signature added beside the others (over its redacted form, as events are signed). */
export function addOurSignature(event: JsonObject, rules: RoomVersionRules, serverName: string, key: SigningKey): JsonObject {
  const signed = signJson(redactEvent(event, rules), serverName, key);
  const signatures = getField(signed, 'signatures');
  return { ...event, signatures: isJsonObject(signatures) ? signatures : {} };
}
