// Parsing an untrusted PDU into a typed view: the first check on receipt, "Is a valid event,
// otherwise it is dropped" (content/server-server-api.md "Checks performed on receipt of a
// PDU", 1). The event format is the room version's (data/api/server-server/definitions/
// pdu_v1, pdu_v3, pdu_v4, pdu_v6, pdu_v11, pdu_v12 and their components); the size limits
// are content/client-server-api/_index.md "Size limits" and content/appendices.md
// "Identifier Grammar". Any input yields a result; nothing here throws.

import { CanonicalJsonError, JsonParseError, parseJsonStrict } from '../canonical-json.ts';
import type { EventView } from '../event-view.ts';
import { computeEventId } from '../event-id.ts';
import {
  isValidEventId,
  isValidRoomId,
  isValidUserId,
  MAX_IDENTIFIER_BYTES,
  utf8ByteLength,
} from '../identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { roomVersionRules, type RoomVersionRules } from '../room-versions.ts';
import { pduError, type PduError } from './errors.ts';
import { findJsonShapeProblem } from './json-checks.ts';
import {
  MAX_AUTH_EVENTS,
  MAX_DEPTH,
  MAX_PDU_BYTES,
  MAX_PREV_EVENTS,
  MAX_RAW_PDU_TEXT_BYTES,
  MAX_STATE_KEY_BYTES,
  MAX_TYPE_BYTES,
} from './limits.ts';
import { redactsIsInContent, toEventView } from './view.ts';

export type { PduError, PduErrorCode } from './errors.ts';

export interface ParsePduInput {
  /** The PDU as received: its JSON text, or one object out of a parsed body. */
  readonly raw: string | JsonObject;
  readonly roomVersion: string;
}

export interface ParsedPdu {
  readonly roomVersion: string;
  readonly rules: RoomVersionRules;
  /** v3+: computed from the reference hash; v1–v2: the `event_id` field. */
  readonly eventId: string;
  /** The event as received, to store and to check signatures over. */
  readonly json: JsonObject;
  readonly view: EventView;
}

export type ParsePduResult =
  | { readonly ok: true; readonly pdu: ParsedPdu }
  | { readonly ok: false; readonly error: PduError };

export function parsePdu(input: ParsePduInput): ParsePduResult {
  try {
    return parseUnguarded(input);
  } catch (cause) {
    // Every known failure is reported above; this keeps "never throws" true for the
    // unknown ones (a hostile value that trips a built-in) without hiding them.
    const detail = cause instanceof Error ? cause.message : String(cause);
    return failed(pduError('unprocessable', `PDU could not be processed: ${detail}`));
  }
}

function failed(error: PduError): ParsePduResult {
  return { ok: false, error };
}

function parseUnguarded(input: ParsePduInput): ParsePduResult {
  const rules = roomVersionRules(input.roomVersion);
  if (rules === undefined) {
    return failed(
      pduError('unsupported-version', `room version ${JSON.stringify(input.roomVersion)} is not supported`),
    );
  }

  const decoded = decodeJson(input.raw, rules);
  if (!decoded.ok) return decoded;
  const json = decoded.json;

  // "Size limits": the complete event, signatures included, as canonical JSON. Key order
  // and number formatting aside, JSON.stringify writes the canonical bytes, so its length
  // is the canonical length; unlike canonicalJson it also measures v1–v5 fractions.
  const size = utf8ByteLength(JSON.stringify(json));
  if (size > MAX_PDU_BYTES) {
    return failed(pduError('too-large', `PDU is ${size} bytes as canonical JSON; the limit is ${MAX_PDU_BYTES}`));
  }

  const formatError = checkEventFormat(json, rules);
  if (formatError !== undefined) return failed(formatError);

  const eventId = eventIdOf(json, rules);
  if (typeof eventId !== 'string') return failed(eventId);

  return {
    ok: true,
    pdu: {
      roomVersion: rules.id,
      rules,
      eventId,
      json,
      view: toEventView(json, rules, eventId),
    },
  };
}

type Decoded = { readonly ok: true; readonly json: JsonObject } | { readonly ok: false; readonly error: PduError };

function decodeJson(raw: string | JsonObject, rules: RoomVersionRules): Decoded {
  let value: JsonValue;
  if (typeof raw === 'string') {
    // Units never outnumber UTF-8 bytes, so the cheap length test comes first.
    if (raw.length > MAX_RAW_PDU_TEXT_BYTES || utf8ByteLength(raw) > MAX_RAW_PDU_TEXT_BYTES) {
      return { ok: false, error: pduError('too-large', `PDU text exceeds ${MAX_RAW_PDU_TEXT_BYTES} bytes`) };
    }
    try {
      // v6.md "Canonical JSON": only the raw text shows `1.0` or `1e3`, which JSON.parse hides.
      value = parseJsonStrict(raw, { strictNumbers: rules.strictCanonicalJson });
    } catch (cause) {
      const message = jsonErrorMessage(cause);
      // Text that fails only the number rules is JSON, just not canonical.
      const lenient = rules.strictCanonicalJson && parsesLeniently(raw);
      return { ok: false, error: pduError(lenient ? 'non-canonical' : 'not-json', message) };
    }
  } else {
    value = raw;
    const problem = findJsonShapeProblem(value, { strictNumbers: rules.strictCanonicalJson });
    if (problem !== undefined) {
      const at = problem.path === '' ? 'the PDU' : problem.path;
      const field = topLevelField(problem.path);
      const error =
        problem.kind === 'non-canonical-number'
          ? pduError('non-canonical', `number ${problem.value} at ${at} is not canonical JSON`, field)
          : problem.kind === 'lone-surrogate'
            ? pduError('not-json', `string at ${at} holds a lone surrogate`, field)
            : problem.kind === 'too-deep'
              ? pduError('not-json', `JSON at ${at} is nested too deeply`, field)
              : pduError('not-json', `value at ${at} is not JSON`, field);
      return { ok: false, error };
    }
  }
  if (!isJsonObject(value)) {
    return { ok: false, error: pduError('not-object', 'PDU is not a JSON object') };
  }
  return { ok: true, json: value };
}

function parsesLeniently(text: string): boolean {
  try {
    parseJsonStrict(text, { strictNumbers: false });
    return true;
  } catch (cause) {
    if (cause instanceof JsonParseError) return false;
    throw cause;
  }
}

function jsonErrorMessage(cause: unknown): string {
  if (cause instanceof JsonParseError) return cause.message;
  throw cause;
}

function topLevelField(path: string): string | undefined {
  const match = /^[^.[]+/.exec(path);
  return match === null ? undefined : match[0];
}

// ---------------------------------------------------------------------------------------
// The event format

function isCreateEvent(json: JsonObject): boolean {
  return getField(json, 'type') === 'm.room.create' && getField(json, 'state_key') === '';
}

/** The first way `json` breaks the room version's event format, if any. */
export function checkEventFormat(json: JsonObject, rules: RoomVersionRules): PduError | undefined {
  return (
    checkBoundedString(json, 'type', MAX_TYPE_BYTES, true) ??
    checkBoundedString(json, 'state_key', MAX_STATE_KEY_BYTES, false) ??
    checkSender(json) ??
    checkRoomId(json, rules) ??
    checkEventIdField(json, rules) ??
    checkInteger(json, 'origin_server_ts', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) ??
    checkInteger(json, 'depth', 0, MAX_DEPTH) ??
    checkObject(json, 'content', true) ??
    checkEdges(json, 'prev_events', MAX_PREV_EVENTS, rules) ??
    checkEdges(json, 'auth_events', MAX_AUTH_EVENTS, rules) ??
    checkHashes(json) ??
    checkSignatures(json) ??
    checkObject(json, 'unsigned', false) ??
    checkRedacts(json, rules)
  );
}

function checkBoundedString(
  json: JsonObject,
  field: string,
  maxBytes: number,
  required: boolean,
): PduError | undefined {
  const value = getField(json, field);
  if (value === undefined) {
    return required ? pduError('missing-field', `${field} is required`, field) : undefined;
  }
  if (typeof value !== 'string') return pduError('bad-field', `${field} must be a string`, field);
  if (utf8ByteLength(value) > maxBytes) {
    return pduError('too-long', `${field} exceeds ${maxBytes} bytes`, field);
  }
  return undefined;
}

function checkIdentifier(
  json: JsonObject,
  field: string,
  required: boolean,
  isValid: (id: string) => boolean,
  what: string,
): PduError | undefined {
  const bounded = checkBoundedString(json, field, MAX_IDENTIFIER_BYTES, required);
  if (bounded !== undefined) return bounded;
  const value = getField(json, field);
  if (typeof value === 'string' && !isValid(value)) {
    return pduError('bad-identifier', `${field} is not a valid ${what}`, field);
  }
  return undefined;
}

function checkSender(json: JsonObject): PduError | undefined {
  // "Historical User IDs": servers MUST accept such senders over federation.
  return checkIdentifier(json, 'sender', true, (id) => isValidUserId(id, { historical: true }), 'user ID');
}

function checkRoomId(json: JsonObject, rules: RoomVersionRules): PduError | undefined {
  if (!rules.format.createHasRoomId && isCreateEvent(json)) {
    // v12 create events have no room ID. One that has one is rejected by auth rule 1.2, a
    // separate outcome from being dropped here, so only its type is checked.
    return checkBoundedString(json, 'room_id', MAX_IDENTIFIER_BYTES, false);
  }
  return checkIdentifier(json, 'room_id', true, (id) => isValidRoomId(id, rules), 'room ID');
}

function checkEventIdField(json: JsonObject, rules: RoomVersionRules): PduError | undefined {
  // v1–v2 carry their ID (rooms/v1.md "Event IDs"); later versions compute it, and an
  // `event_id` they carry anyway is just another field.
  if (!rules.format.requireEventIdField) return undefined;
  return checkIdentifier(json, 'event_id', true, (id) => isValidEventId(id, rules), 'event ID');
}

function checkInteger(json: JsonObject, field: string, min: number, max: number): PduError | undefined {
  const value = getField(json, field);
  if (value === undefined) return pduError('missing-field', `${field} is required`, field);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return pduError('bad-field', `${field} must be an integer`, field);
  }
  if (value < min || value > max) {
    return pduError('bad-field', `${field} must be between ${min} and ${max}`, field);
  }
  return undefined;
}

function checkObject(json: JsonObject, field: string, required: boolean): PduError | undefined {
  const value = getField(json, field);
  if (value === undefined) {
    return required ? pduError('missing-field', `${field} is required`, field) : undefined;
  }
  return isJsonObject(value) ? undefined : pduError('bad-field', `${field} must be an object`, field);
}

/**
 * `prev_events` and `auth_events`: v1–v2 list `[event_id, {sha256}]` pairs, v3+ event IDs.
 * The hash half of a v1–v2 pair is only checked to be an object: no check on receipt reads it.
 */
function checkEdges(
  json: JsonObject,
  field: string,
  maxCount: number,
  rules: RoomVersionRules,
): PduError | undefined {
  const value = getField(json, field);
  if (value === undefined) return pduError('missing-field', `${field} is required`, field);
  if (!Array.isArray(value)) return pduError('bad-field', `${field} must be an array`, field);
  if (value.length > maxCount) {
    return pduError('too-many-edges', `${field} lists ${value.length} events; at most ${maxCount} are allowed`, field);
  }
  const pairs = rules.format.eventIdFormat === 'v1';
  for (const entry of value) {
    let id: JsonValue | undefined = entry;
    if (pairs) {
      if (!Array.isArray(entry) || entry.length !== 2 || !isJsonObject(entry[1])) {
        return pduError('bad-field', `${field} entries must be [event_id, hashes] pairs`, field);
      }
      id = entry[0];
    }
    if (typeof id !== 'string') return pduError('bad-field', `${field} entries must name event IDs`, field);
    if (utf8ByteLength(id) > MAX_IDENTIFIER_BYTES) {
      return pduError('too-long', `an event ID in ${field} exceeds ${MAX_IDENTIFIER_BYTES} bytes`, field);
    }
    if (!isValidEventId(id, rules)) {
      return pduError('bad-identifier', `${JSON.stringify(id)} in ${field} is not a valid event ID`, field);
    }
  }
  return undefined;
}

function checkHashes(json: JsonObject): PduError | undefined {
  const hashes = getField(json, 'hashes');
  if (hashes === undefined) return pduError('missing-field', 'hashes is required', 'hashes');
  if (!isJsonObject(hashes)) return pduError('bad-field', 'hashes must be an object', 'hashes');
  if (typeof getField(hashes, 'sha256') !== 'string') {
    return pduError('bad-field', 'hashes.sha256 must be a string', 'hashes');
  }
  return undefined;
}

function checkSignatures(json: JsonObject): PduError | undefined {
  const signatures = getField(json, 'signatures');
  if (signatures === undefined) return pduError('missing-field', 'signatures is required', 'signatures');
  if (!isJsonObject(signatures)) return pduError('bad-field', 'signatures must be an object', 'signatures');
  for (const byServer of Object.values(signatures)) {
    if (!isJsonObject(byServer) || !Object.values(byServer).every((sig) => typeof sig === 'string')) {
      return pduError('bad-field', 'signatures must map server names to objects of strings', 'signatures');
    }
  }
  return undefined;
}

function checkRedacts(json: JsonObject, rules: RoomVersionRules): PduError | undefined {
  // v1–v10 define a top-level `redacts`; v11 moved it into `content`, whose shape is the
  // redaction rules' business, not the event format's.
  if (redactsIsInContent(rules)) return undefined;
  return checkBoundedString(json, 'redacts', MAX_IDENTIFIER_BYTES, false);
}

function eventIdOf(json: JsonObject, rules: RoomVersionRules): string | PduError {
  if (rules.format.requireEventIdField) {
    const id = getField(json, 'event_id');
    // checkEventIdField has made sure of it.
    return typeof id === 'string' ? id : pduError('missing-field', 'event_id is required', 'event_id');
  }
  try {
    return computeEventId(json, rules);
  } catch (cause) {
    // v3–v5 allow numbers canonical JSON cannot encode (fractions, beyond ±(2^53 - 1)).
    // Where one survives redaction no reference hash, so no event ID, can be computed,
    // and its signatures could not be checked either.
    if (cause instanceof CanonicalJsonError) {
      return pduError('non-canonical', `event ID cannot be computed: ${cause.message}`);
    }
    throw cause;
  }
}

