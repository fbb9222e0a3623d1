// The cryptographic checks of one bundled event, with only the bundle's keys: the event ID
// (recomputed from the event in v3+, so any change to what it covers shows), the content
// hash (server-server § "Validating hashes and signatures on received events") and the
// signatures of every server the event needs (appendices § "Checking for a Signature").
// Pure CPU work: it runs in the verifier's worker threads.

import { checkEventHashes, checkEventSignatures, requiredSignersOf } from '../../crypto/event-signing.ts';
import { canonicalJson, CanonicalJsonError, JsonParseError, parseJsonStrict } from '../../rooms/canonical-json.ts';
import { computeEventId, EventIdError } from '../../rooms/event-id.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { redactEvent } from '../../rooms/redaction.ts';
import type { RoomVersionRules } from '../../rooms/room-versions.ts';
import { decodeBase64 } from '../../rooms/base64.ts';
import type { KeysFile } from './bundle-format.ts';

export type EventProblemCode = 'line-unreadable' | 'event-id' | 'content-hash' | 'signature' | 'no-key';

export interface EventProblem {
  readonly code: EventProblemCode;
  readonly line: number;
  readonly eventId: string | undefined;
  readonly message: string;
}

export interface EventCheckResult {
  readonly problems: EventProblem[];
  /** Events stored as their redacted copy because their hash failed on receipt (as the spec says). */
  readonly redactedOnReceipt: number;
}

/** server → key ID → raw public key, from keys.json. Malformed entries are left out. */
export type KeyTable = ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>;

export function keyTableOf(keys: KeysFile): KeyTable {
  const table = new Map<string, Map<string, Uint8Array>>();
  for (const [server, entries] of Object.entries(keys.servers)) {
    const byId = new Map<string, Uint8Array>();
    for (const [keyId, entry] of Object.entries(entries)) {
      try {
        byId.set(keyId, decodeBase64(entry.key));
      } catch {
        // An undecodable key verifies nothing; the events it signed report "no key".
      }
    }
    table.set(server, byId);
  }
  return table;
}

/** Checks `lines` (events.jsonl or state.jsonl text), the first being line number `firstLine`. */
export function checkEventLines(lines: readonly string[], firstLine: number, rules: RoomVersionRules, keys: KeyTable): EventCheckResult {
  const problems: EventProblem[] = [];
  let redactedOnReceipt = 0;
  const lookup = (server: string, keyId: string): Uint8Array | undefined => keys.get(server)?.get(keyId);
  lines.forEach((text, index) => {
    const line = firstLine + index;
    const outcome = checkOne(text, line, rules, lookup, problems);
    if (outcome === 'redacted-on-receipt') redactedOnReceipt++;
  });
  return { problems, redactedOnReceipt };
}

function checkOne(
  text: string,
  line: number,
  rules: RoomVersionRules,
  lookup: (server: string, keyId: string) => Uint8Array | undefined,
  problems: EventProblem[],
): 'ok' | 'redacted-on-receipt' | 'problem' {
  let parsed;
  try {
    // The bundle is untrusted input: the strict parser refuses duplicate keys and, for the
    // room versions that require canonical JSON, numbers JSON.parse would silently change.
    parsed = parseJsonStrict(text, { strictNumbers: rules.strictCanonicalJson });
  } catch (error) {
    if (!(error instanceof JsonParseError)) throw error;
    problems.push({ code: 'line-unreadable', line, eventId: undefined, message: `not valid JSON (${error.message})` });
    return 'problem';
  }
  const eventIdField = isJsonObject(parsed) ? getField(parsed, 'event_id') : undefined;
  const pdu = isJsonObject(parsed) ? getField(parsed, 'pdu') : undefined;
  if (typeof eventIdField !== 'string' || !isJsonObject(pdu)) {
    problems.push({ code: 'line-unreadable', line, eventId: undefined, message: 'the line has no event_id or no pdu object' });
    return 'problem';
  }
  const eventId = eventIdField;
  const report = (code: EventProblemCode, message: string): void => {
    problems.push({ code, line, eventId, message });
  };
  let result: 'ok' | 'redacted-on-receipt' | 'problem' = 'ok';

  let computed: string;
  try {
    computed = computeEventId(pdu, rules);
  } catch (error) {
    if (!(error instanceof EventIdError) && !(error instanceof CanonicalJsonError)) throw error;
    report('event-id', `event ID cannot be computed: ${error.message}`);
    return 'problem';
  }
  if (computed !== eventId) {
    report('event-id', `the event's recomputed ID is ${computed}: the event was altered (its ID covers everything but unredactable content)`);
    result = 'problem';
  }

  if (checkEventHashes(pdu) === 'hash-mismatch') {
    if (isOwnRedactedCopy(pdu, rules)) {
      result = result === 'ok' ? 'redacted-on-receipt' : result;
    } else {
      report('content-hash', 'content hash mismatch: the event content was altered after it was signed');
      result = 'problem';
    }
  }

  const servers = requiredSignersOf(pdu, rules);
  const signatures = checkEventSignatures(pdu, rules, lookup, servers);
  if (!signatures.ok) {
    if (signatures.reason === 'no-known-key') {
      report('no-key', `no key in keys.json for the signature of ${signatures.server}`);
    } else if (signatures.reason === 'bad-signature') {
      report('signature', `the signature of ${signatures.server} does not verify: the event or the key in keys.json was altered`);
    } else {
      report('signature', 'the event names no sender server to check a signature of');
    }
    result = 'problem';
  }
  return result;
}

/**
 * Whether the event is exactly its own redacted form: what a server stores when an event's
 * content hash fails on receipt (server-server § "Checks performed on receipt": "redact it
 * and process the redacted event"). Its signatures still verify; its content is gone.
 */
function isOwnRedactedCopy(pdu: JsonObject, rules: RoomVersionRules): boolean {
  const withoutUnsigned: JsonObject = { ...pdu };
  delete withoutUnsigned['unsigned'];
  try {
    return canonicalJson(redactEvent(pdu, rules)) === canonicalJson(withoutUnsigned);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
}
