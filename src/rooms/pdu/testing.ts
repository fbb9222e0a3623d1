// Test fixtures for PDUs: a well-formed PDU of any room version, to be broken one field at
// a time. Not imported by production code.

import type { JsonObject, JsonValue } from '../json.ts';
import { roomVersionRules, type RoomVersionRules } from '../room-versions.ts';

export const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

export function rulesOf(version: string): RoomVersionRules {
  const rules = roomVersionRules(version);
  if (rules === undefined) throw new Error(`unknown room version ${version}`);
  return rules;
}

/** 43 characters: a SHA-256 in URL-safe unpadded base64 (also valid standard base64). */
export const HASH_A = 'Rqnc0F0dvnEYJTyHq1iKxU2bZ1CI920kuZq3a5lr5Zg';
export const HASH_B = 'CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o';

/** An event ID of the version's format, distinct per `n`. */
export function sampleEventId(rules: RoomVersionRules, n: number): string {
  if (rules.format.eventIdFormat === 'v1') return `$event${n}:example.org`;
  return `$${HASH_A.slice(0, 40)}${String(n).padStart(3, '0')}`;
}

export function sampleRoomId(rules: RoomVersionRules): string {
  return rules.format.createHasRoomId ? '!room:example.org' : `!${HASH_B}`;
}

/** A `prev_events`/`auth_events` entry in the version's format. */
export function sampleEdge(rules: RoomVersionRules, n: number): JsonValue {
  const id = sampleEventId(rules, n);
  return rules.format.eventIdFormat === 'v1' ? [id, { sha256: HASH_B }] : id;
}

/**
 * A well-formed `m.room.message` PDU; `overrides` replace fields, and an `undefined`
 * override removes the field.
 */
export function samplePdu(version: string, overrides: Record<string, JsonValue | undefined> = {}): JsonObject {
  const rules = rulesOf(version);
  const pdu: JsonObject = {
    room_id: sampleRoomId(rules),
    type: 'm.room.message',
    sender: '@alice:example.org',
    origin_server_ts: 1_700_000_000_000,
    depth: 12,
    content: { msgtype: 'm.text', body: 'hello' },
    prev_events: [sampleEdge(rules, 1)],
    auth_events: [sampleEdge(rules, 2), sampleEdge(rules, 3)],
    hashes: { sha256: HASH_B },
    signatures: { 'example.org': { 'ed25519:a': 'c2lnbmF0dXJl' } },
    unsigned: { age: 5 },
  };
  if (rules.format.requireEventIdField) pdu['event_id'] = '$msg1:example.org';
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete pdu[key];
    else pdu[key] = value;
  }
  return pdu;
}
