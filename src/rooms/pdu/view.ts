// Conversion of PDU JSON into the EventView the auth rules and state resolution read.
// Untrusted JSON goes through parsePdu (./parse.ts), which validates and then calls this;
// this function is for JSON already known to be well-formed (validated on receipt, or built
// locally), so a wrong shape here is a bug or corrupt storage and throws.

import type { EventView } from '../event-view.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';

/**
 * v11 moved `redacts` from the top level into `content` (content/rooms/v11.md "Event
 * format"), in the same version whose redaction algorithm keeps `content.redacts`.
 */
export function redactsIsInContent(rules: RoomVersionRules): boolean {
  return rules.redaction.keepRedactionRedacts;
}

/** `prev_events`/`auth_events` as event IDs: v1–v2 list `[event_id, hashes]` pairs. */
export function edgeEventIds(value: JsonValue | undefined, rules: RoomVersionRules): string[] {
  if (!Array.isArray(value)) throw new TypeError('PDU edges are not an array');
  return value.map((entry) => {
    const id = rules.format.eventIdFormat === 'v1' && Array.isArray(entry) ? entry[0] : entry;
    if (typeof id !== 'string') throw new TypeError('PDU edge is not an event ID');
    return id;
  });
}

function requireString(json: JsonObject, key: string): string {
  const value = getField(json, key);
  if (typeof value !== 'string') throw new TypeError(`PDU field ${key} is not a string`);
  return value;
}

function requireNumber(json: JsonObject, key: string): number {
  const value = getField(json, key);
  if (typeof value !== 'number') throw new TypeError(`PDU field ${key} is not a number`);
  return value;
}

function optionalString(json: JsonObject, key: string): string | undefined {
  const value = getField(json, key);
  return typeof value === 'string' ? value : undefined;
}

export function toEventView(json: JsonObject, rules: RoomVersionRules, eventId: string): EventView {
  const content = getField(json, 'content');
  if (!isJsonObject(content)) throw new TypeError('PDU field content is not an object');
  const stateKey = getField(json, 'state_key');
  if (stateKey !== undefined && typeof stateKey !== 'string') {
    throw new TypeError('PDU field state_key is not a string');
  }
  return Object.freeze({
    eventId,
    roomId: optionalString(json, 'room_id'),
    type: requireString(json, 'type'),
    stateKey,
    sender: requireString(json, 'sender'),
    content,
    originServerTs: requireNumber(json, 'origin_server_ts'),
    depth: requireNumber(json, 'depth'),
    prevEvents: Object.freeze(edgeEventIds(getField(json, 'prev_events'), rules)),
    authEvents: Object.freeze(edgeEventIds(getField(json, 'auth_events'), rules)),
    redacts: redactsIsInContent(rules)
      ? optionalString(content, 'redacts')
      : optionalString(json, 'redacts'),
    raw: json,
  });
}
