// The per-line checks of a bundle file, with only the bundle's keys, on a chunk of the file
// (whole lines, as bytes). The signatures — ed25519, two thirds of the work — are verified
// on libuv's thread pool (node:crypto's asynchronous verify), so they use every core while
// this thread parses and hashes the next events; what must be done in file order is left
// to the caller (./verifier.ts).
//
// For every event: the event ID (recomputed from the event in v3+, so any change to what it
// covers shows), the content hash (server-server § "Validating hashes and signatures on
// received events") and the signatures of every server the event needs (appendices
// § "Checking for a Signature"). For events.jsonl also what needs no other line — the room
// and the time range of the scope — and, for the in-order checks, each line's SHA-256 (the
// hash chain), its event ID, position and prev events.

import { createPublicKey, hash, verify, type KeyObject } from 'node:crypto';
import { checkEventHashes, requiredSignersOf } from '../../crypto/event-signing.ts';
import { isSupportedKeyId, signableBytes, signaturesOf } from '../../crypto/signed-json.ts';
import { decodeBase64, encodeBase64, encodeBase64Url, tryDecodeBase64 } from '../../rooms/base64.ts';
import { canonicalJson, CanonicalJsonError, JsonParseError, parseJsonStrict } from '../../rooms/canonical-json.ts';
import { computeEventId, EventIdError } from '../../rooms/event-id.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { redactEvent } from '../../rooms/redaction.ts';
import type { RoomVersionRules } from '../../rooms/room-versions.ts';
import type { ExportScope, KeysFile } from './bundle-format.ts';
import { prevEventIdsOf } from './event-fields.ts';
import { writeEventIdKey } from './event-id-set.ts';

export type EventProblemCode = 'line-unreadable' | 'event-id' | 'content-hash' | 'signature' | 'no-key' | 'wrong-room' | 'out-of-scope';

export interface EventProblem {
  readonly code: EventProblemCode;
  /** 1-based line number within the chunk. */
  readonly line: number;
  readonly eventId: string | undefined;
  readonly message: string;
}

/** What events.jsonl's in-order checks need of each line of a chunk (index = line − 1). */
export interface LineOrderInfo {
  /** SHA-256 of each line's bytes (32 bytes per line): the hash chain's input. */
  readonly lineHashes: Uint8Array;
  /** Per line: 0 unreadable (no event ID or PDU), 1 timeline event, 2 outlier. */
  readonly kinds: Uint8Array;
  /** The stream ordering (timeline) or received_ts (outliers; 0 when not a number). */
  readonly positions: Float64Array;
  /** The event ID of each line ('' when unreadable). */
  readonly eventIds: string[];
  /** EventIdSet keys of the event IDs, two words per line (./event-id-set.ts). */
  readonly eventIdKeys: Uint32Array;
  /** Line i's prev events are prevIds[prevStart[i] .. prevStart[i + 1]). */
  readonly prevStart: Uint32Array;
  readonly prevIds: string[];
  readonly prevKeys: Uint32Array;
}

export interface ChunkCheckResult {
  readonly lines: number;
  readonly problems: EventProblem[];
  /** Events stored as their redacted copy because their hash failed on receipt (as the spec says). */
  readonly redactedOnReceipt: number;
  /** Set for events.jsonl. */
  readonly order?: LineOrderInfo;
}

/** A verify key from keys.json: the raw key, and the key object that verifies with it (null: not a usable key). */
export interface BundleKey {
  readonly raw: Uint8Array;
  readonly object: KeyObject | null;
}

/** server → key ID → key, from keys.json. Undecodable entries are left out (their events report "no key"). */
export type KeyTable = ReadonlyMap<string, ReadonlyMap<string, BundleKey>>;

export function keyTableOf(keys: KeysFile): KeyTable {
  const table = new Map<string, Map<string, BundleKey>>();
  for (const [server, entries] of Object.entries(keys.servers)) {
    const byId = new Map<string, BundleKey>();
    for (const [keyId, entry] of Object.entries(entries)) {
      let raw: Uint8Array;
      try {
        raw = decodeBase64(entry.key);
      } catch {
        continue;
      }
      // Built once per key, not once per signature: importing a key costs more than a verify.
      byId.set(keyId, { raw, object: ed25519KeyObject(raw) });
    }
    table.set(server, byId);
  }
  return table;
}

function ed25519KeyObject(raw: Uint8Array): KeyObject | null {
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** What the checks of one bundle file need besides its lines. */
export interface ChunkContext {
  readonly rules: RoomVersionRules;
  readonly keys: KeyTable;
  /** events.jsonl: the manifest's scope, checked per line, and the in-order data collected. */
  readonly scope?: ExportScope;
}

const EMPTY = new Uint8Array(0);

/**
 * Checks the lines of `chunk` (whole lines of a bundle file, the last one's newline
 * optional). Every line break ends a line, so an empty line is a line (and unreadable).
 */
export async function checkChunk(chunk: Uint8Array, context: ChunkContext): Promise<ChunkCheckResult> {
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const starts: number[] = [];
  const ends: number[] = [];
  for (let start = 0; start < bytes.length; ) {
    const newline = bytes.indexOf(10, start);
    const end = newline === -1 ? bytes.length : newline;
    starts.push(start);
    ends.push(end);
    start = end + 1;
  }
  const lines = starts.length;
  // A signature problem is filled in (or dropped) once its verifications are done: each
  // event's problems stay in check order, and the events' in line order.
  const problems: Array<EventProblem | undefined> = [];
  const verifications = new Verifications();
  const awaiting: Array<{ readonly event: CheckedEvent; readonly slot: number }> = [];
  let redactedOnReceipt = 0;
  const order = context.scope === undefined ? undefined : newOrderInfo(lines);
  const prevIds: string[] = [];
  for (let i = 0; i < lines; i++) {
    const start = starts[i] ?? 0;
    const end = ends[i] ?? 0;
    const lineBytes = start === end ? EMPTY : bytes.subarray(start, end);
    const text = bytes.toString('utf8', start, end);
    const line = i + 1;
    const parsed = parseLine(text, line, context.rules, problems);
    if (order !== undefined) {
      order.lineHashes.set(hash('sha256', lineBytes, 'buffer'), i * 32);
      order.prevStart[i] = prevIds.length;
      if (parsed !== undefined && context.scope !== undefined) {
        observeLine(parsed.line, parsed.eventId, parsed.pdu, i, context.scope, order, prevIds, problems);
      }
    }
    if (parsed === undefined || !parsed.strict) continue;
    const event = checkEvent(parsed.eventId, parsed.pdu, line, context, problems, verifications);
    if (event.signatures === undefined) continue;
    awaiting.push({ event, slot: problems.length });
    problems.push(undefined);
  }
  await verifications.done();
  for (const { event, slot } of awaiting) {
    const failure = signatureFailure(event.signatures ?? []);
    if (failure === undefined) {
      if (event.outcome === 'redacted-on-receipt') redactedOnReceipt++;
    } else {
      problems[slot] = { code: failure.code, line: event.line, eventId: event.eventId, message: failure.message };
    }
  }
  const found = problems.filter((p): p is EventProblem => p !== undefined);
  if (order === undefined) return { lines, problems: found, redactedOnReceipt };
  order.prevStart[lines] = prevIds.length;
  const prevKeys = new Uint32Array(prevIds.length * 2);
  prevIds.forEach((id, index) => writeEventIdKey(id, prevKeys, index));
  return { lines, problems: found, redactedOnReceipt, order: { ...order, prevIds, prevKeys } };
}

function newOrderInfo(lines: number): Omit<LineOrderInfo, 'prevIds' | 'prevKeys'> {
  return {
    lineHashes: new Uint8Array(lines * 32),
    kinds: new Uint8Array(lines),
    positions: new Float64Array(lines),
    eventIds: new Array<string>(lines).fill(''),
    eventIdKeys: new Uint32Array(lines * 2),
    prevStart: new Uint32Array(lines + 1),
  };
}

interface ParsedLine {
  readonly line: JsonObject;
  readonly eventId: string;
  readonly pdu: JsonObject;
  /** Read by the strict parser: the event checks apply. */
  readonly strict: boolean;
}

function parseLine(text: string, line: number, rules: RoomVersionRules, problems: Array<EventProblem | undefined>): ParsedLine | undefined {
  let parsed: unknown;
  let strict = true;
  try {
    // The bundle is untrusted input: the strict parser refuses duplicate keys and, for the
    // room versions that require canonical JSON, numbers JSON.parse would silently change.
    parsed = parseJsonStrict(text, { strictNumbers: rules.strictCanonicalJson });
  } catch (error) {
    if (!(error instanceof JsonParseError)) throw error;
    problems.push({ code: 'line-unreadable', line, eventId: undefined, message: `not valid JSON (${error.message})` });
    // The order and scope checks still read what a lenient reader sees in the line.
    strict = false;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  const eventId = isJsonObject(parsed) ? getField(parsed, 'event_id') : undefined;
  const pdu = isJsonObject(parsed) ? getField(parsed, 'pdu') : undefined;
  if (!isJsonObject(parsed) || typeof eventId !== 'string' || !isJsonObject(pdu)) {
    if (strict) problems.push({ code: 'line-unreadable', line, eventId: undefined, message: 'the line has no event_id or no pdu object' });
    return undefined;
  }
  return { line: parsed, eventId, pdu, strict };
}

/** The scope checks of one events.jsonl line, and what the in-order checks need of it. */
function observeLine(
  parsed: JsonObject,
  eventId: string,
  pdu: JsonObject,
  index: number,
  scope: ExportScope,
  order: Omit<LineOrderInfo, 'prevIds' | 'prevKeys'>,
  prevIds: string[],
  problems: Array<EventProblem | undefined>,
): void {
  const report = (message: string, code: EventProblemCode = 'out-of-scope'): void => {
    problems.push({ code, line: index + 1, eventId, message });
  };
  const stream = getField(parsed, 'stream_ordering');
  if (typeof stream === 'number') {
    order.kinds[index] = 1;
    order.positions[index] = stream;
    if (stream > scope.up_to_stream_ordering) {
      report(`stream ordering ${stream} is past the export's end (${scope.up_to_stream_ordering}): the event was added`);
    }
  } else {
    const received = getField(parsed, 'received_ts');
    order.kinds[index] = 2;
    order.positions[index] = typeof received === 'number' ? received : 0;
  }
  order.eventIds[index] = eventId;
  writeEventIdKey(eventId, order.eventIdKeys, index);

  const roomId = getField(pdu, 'room_id');
  const isV12Create = roomId === undefined && getField(pdu, 'type') === 'm.room.create';
  const effectiveRoom = isV12Create ? `!${eventId.slice(1)}` : roomId;
  if (effectiveRoom !== scope.room_id) report(`the event belongs to ${String(effectiveRoom)}, not ${scope.room_id}`, 'wrong-room');
  const ts = getField(pdu, 'origin_server_ts');
  if (typeof ts === 'number') {
    if (scope.since_ts !== null && ts < scope.since_ts) report('the event is older than the start of the exported time range');
    if (scope.until_ts !== null && ts >= scope.until_ts) report('the event is newer than the end of the exported time range');
  }
  for (const prev of prevEventIdsOf(pdu)) prevIds.push(prev);
}

/** An event whose checks up to the signatures are done. */
interface CheckedEvent {
  readonly eventId: string;
  readonly line: number;
  /** The outcome of the ID and content hash checks. */
  readonly outcome: 'ok' | 'redacted-on-receipt' | 'problem';
  /** The signatures to check (being verified); undefined when the event ID could not be computed. */
  readonly signatures: readonly SignerCheck[] | undefined;
}

function checkEvent(
  eventId: string,
  pdu: JsonObject,
  line: number,
  context: ChunkContext,
  problems: Array<EventProblem | undefined>,
  verifications: Verifications,
): CheckedEvent {
  const { rules } = context;
  const report = (code: EventProblemCode, message: string): void => {
    problems.push({ code, line, eventId, message });
  };
  let outcome: 'ok' | 'redacted-on-receipt' | 'problem' = 'ok';

  // The redacted event without signatures and unsigned is both what the reference hash
  // (the v3+ event ID) hashes and what the signatures sign: encoded once for both.
  const redacted = redactEvent(pdu, rules);
  let signed: Uint8Array | undefined;
  let computed: string;
  try {
    if (rules.format.eventIdFormat === 'v1') {
      computed = computeEventId(pdu, rules);
    } else {
      signed = signableBytes(redacted);
      const referenceHash = hash('sha256', signed, 'buffer');
      computed = `$${rules.format.eventIdFormat === 'v3' ? encodeBase64(referenceHash) : encodeBase64Url(referenceHash)}`;
    }
  } catch (error) {
    if (!(error instanceof EventIdError) && !(error instanceof CanonicalJsonError)) throw error;
    report('event-id', `event ID cannot be computed: ${error.message}`);
    return { eventId, line, outcome: 'problem', signatures: undefined };
  }
  if (computed !== eventId) {
    report('event-id', `the event's recomputed ID is ${computed}: the event was altered (its ID covers everything but unredactable content)`);
    outcome = 'problem';
  }

  if (checkEventHashes(pdu) === 'hash-mismatch') {
    if (isOwnRedactedCopy(pdu, redacted)) {
      outcome = outcome === 'ok' ? 'redacted-on-receipt' : outcome;
    } else {
      report('content-hash', 'content hash mismatch: the event content was altered after it was signed');
      outcome = 'problem';
    }
  }

  const signatures = signatureChecks(redacted, signed, requiredSignersOf(pdu, rules), context.keys, verifications);
  return { eventId, line, outcome, signatures };
}

/** One signature under a key keys.json holds; `ok` is settled when its verification is done. */
interface SignatureCheck {
  ok: boolean;
}

/** A server whose signature the event needs, and its signatures under keys keys.json holds. */
interface SignerCheck {
  readonly server: string;
  readonly signatures: readonly SignatureCheck[];
}

/**
 * The signature check of server-server § "Validating hashes and signatures on received
 * events" with the bundle's keys, as `checkEventSignatures` (crypto/event-signing.ts) does
 * it, in two steps so the verifications can run elsewhere meanwhile: here, which
 * signatures count (under a supported algorithm and a key keys.json holds; the others are
 * skipped), each one's verification started; `signatureFailure` then judges. `signed` is
 * the redacted event's signable bytes when already encoded.
 */
function signatureChecks(
  redacted: JsonObject,
  signed: Uint8Array | undefined,
  servers: readonly string[],
  keys: KeyTable,
  verifications: Verifications,
): SignerCheck[] {
  let bytes = signed;
  let encodable = true;
  return servers.map((server) => {
    const signatures: SignatureCheck[] = [];
    for (const [keyId, encoded] of Object.entries(signaturesOf(redacted, server))) {
      if (!isSupportedKeyId(keyId)) continue;
      const key = keys.get(server)?.get(keyId);
      if (key === undefined) continue;
      const check: SignatureCheck = { ok: false };
      signatures.push(check);
      if (bytes === undefined && encodable) {
        try {
          bytes = signableBytes(redacted);
        } catch (error) {
          if (!(error instanceof CanonicalJsonError)) throw error;
          encodable = false; // what cannot be encoded cannot have been signed: the check fails
        }
      }
      const signature = tryDecodeBase64(encoded);
      if (bytes !== undefined && key.object !== null && signature !== undefined && signature.length === 64) {
        verifications.start(key.object, bytes, signature, check);
      }
    }
    return { server, signatures };
  });
}

/** The first failure of an event's signature checks, once they are done. */
function signatureFailure(signers: readonly SignerCheck[]): { code: EventProblemCode; message: string } | undefined {
  if (signers.length === 0) return { code: 'signature', message: 'the event names no sender server to check a signature of' };
  for (const { server, signatures } of signers) {
    if (signatures.length === 0) return { code: 'no-key', message: `no key in keys.json for the signature of ${server}` };
    if (signatures.some((check) => !check.ok)) {
      return { code: 'signature', message: `the signature of ${server} does not verify: the event or the key in keys.json was altered` };
    }
  }
  return undefined;
}

/** ed25519 verifications running on libuv's thread pool, and when they are all done. */
class Verifications {
  #running = 0;
  #idle: (() => void) | undefined;

  start(key: KeyObject, data: Uint8Array, signature: Uint8Array, into: SignatureCheck): void {
    this.#running++;
    try {
      verify(null, data, key, signature, (error, ok) => {
        into.ok = error === null && ok;
        this.#finished();
      });
    } catch {
      into.ok = false;
      this.#finished();
    }
  }

  done(): Promise<void> {
    return this.#running === 0 ? Promise.resolve() : new Promise((resolve) => (this.#idle = resolve));
  }

  #finished(): void {
    if (--this.#running === 0) this.#idle?.();
  }
}

/**
 * Whether the event is exactly its own redacted form: what a server stores when an event's
 * content hash fails on receipt (server-server § "Checks performed on receipt": "redact it
 * and process the redacted event"). Its signatures still verify; its content is gone.
 */
function isOwnRedactedCopy(pdu: JsonObject, redacted: JsonObject): boolean {
  const withoutUnsigned: JsonObject = { ...pdu };
  delete withoutUnsigned['unsigned'];
  try {
    return canonicalJson(redacted) === canonicalJson(withoutUnsigned);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
}

/** The buffers of a result that can be moved to another thread instead of copied. */
export function transferablesOf(result: ChunkCheckResult): ArrayBuffer[] {
  const order = result.order;
  if (order === undefined) return [];
  const arrays = [order.lineHashes, order.kinds, order.positions, order.eventIdKeys, order.prevStart, order.prevKeys];
  return arrays.map((array) => array.buffer).filter((buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer && buffer.byteLength > 0);
}
