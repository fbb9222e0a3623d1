// Lenient reads of PDU fields the export and its verifier need, for every room version:
// prev_events are `[[id, hashes], …]` in v1–v2 and `[id, …]` from v3 (rooms/v3.md).

import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';

export function prevEventIdsOf(pdu: JsonObject): string[] {
  const prevs = getField(pdu, 'prev_events');
  if (!Array.isArray(prevs)) return [];
  const ids: string[] = [];
  for (const prev of prevs) {
    if (typeof prev === 'string') ids.push(prev);
    else if (Array.isArray(prev) && typeof prev[0] === 'string') ids.push(prev[0]);
  }
  return ids;
}

/** The servers that signed the event (keys of `signatures`). */
export function signingServersOf(pdu: JsonObject): string[] {
  const signatures = getField(pdu, 'signatures');
  return isJsonObject(signatures) ? Object.keys(signatures) : [];
}

/** The encryption algorithm when the event enables or carries end-to-end encryption. */
export function encryptionAlgorithmOf(pdu: JsonObject): string | undefined {
  const type = getField(pdu, 'type');
  if (type !== 'm.room.encryption' && type !== 'm.room.encrypted') return undefined;
  const content = getField(pdu, 'content');
  const algorithm = isJsonObject(content) ? getField(content, 'algorithm') : undefined;
  return typeof algorithm === 'string' ? algorithm : 'unknown';
}
