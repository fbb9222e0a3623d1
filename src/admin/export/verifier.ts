// Offline verification of an export bundle (./bundle-format.ts): no database, no network,
// only the files. Checks, and reports every failure it finds rather than stopping at one:
//
//   1. the manifest's signature, under the key the manifest carries (and, when pinned,
//      under the key the operator expects — without a pin, a valid signature proves the
//      bundle is intact and self-consistent, not who made it);
//   2. each file's SHA-256 and size against the manifest;
//   3. every event (events.jsonl and state.jsonl): its recomputed ID, content hash and
//      signatures against keys.json (./check-event-line.ts: on a worker thread, the
//      signatures on libuv's thread pool, so every core verifies);
//   4. the hash chain over events.jsonl against the manifest's head, and the line count;
//   5. order and DAG: stream orderings increase, no event appears twice, every prev event
//      is in the bundle before the event naming it, or a boundary the manifest declares;
//   6. scope: every event is in the manifest's room and time range.
//
// Any edited, removed, reordered or added line changes the chain head (4); the other checks
// say which event and how.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { verifyJsonSignature } from '../../crypto/signed-json.ts';
import { decodeBase64 } from '../../rooms/base64.ts';
import { JsonParseError, parseJsonStrict } from '../../rooms/canonical-json.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import { FILES, HASHED_FILES, MEDIA_DIR, type KeysFile, type Manifest } from './bundle-format.ts';
import type { ChunkCheckResult, EventProblemCode, LineOrderInfo } from './check-event-line.ts';
import { CheckPool } from './check-pool.ts';
import { EventIdSet } from './event-id-set.ts';
import { HashChain } from './hash-chain.ts';

export type ProblemCode =
  | EventProblemCode
  | 'manifest'
  | 'manifest-signature'
  | 'pinned-key'
  | 'file-missing'
  | 'file-hash'
  | 'keys-file'
  | 'chain'
  | 'count'
  | 'duplicate'
  | 'dag-missing-prev'
  | 'dag-order'
  | 'stream-order'
  | 'wrong-room'
  | 'out-of-scope';

export interface Problem {
  readonly code: ProblemCode;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly eventId?: string;
}

export interface PinnedKey {
  /** `ed25519:abc` */
  readonly keyId: string;
  /** Unpadded base64. */
  readonly publicKey: string;
}

export interface VerifyOptions {
  /** Keys the manifest must be signed with (one of them); unpinned bundles prove integrity only. */
  readonly expectKeys?: readonly PinnedKey[];
  /**
   * Worker threads for the event checks; 0: the calling thread checks. Either way the
   * signatures are verified on libuv's thread pool (UV_THREADPOOL_SIZE threads, default 4),
   * which one checking thread keeps busy. Default: one (none for small bundles).
   */
  readonly workers?: number;
  /** Problems kept in the report; the rest are only counted. Default 1,000. */
  readonly maxProblems?: number;
}

export interface VerifyStats {
  events: number;
  stateEvents: number;
  /** Events stored as their redacted copy because their content hash failed on receipt. */
  redactedOnReceipt: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  /** Problems found beyond `maxProblems`. */
  readonly problemsOmitted: number;
  readonly manifest: Manifest | undefined;
  readonly pinned: boolean;
  readonly stats: VerifyStats;
}

/** Bytes read and checked at a time: a few hundred lines, one worker message each way. */
const CHUNK_BYTES = 256 * 1024;
const SMALL_BUNDLE_EVENTS = 5000;

export async function verifyExport(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const problems = new ProblemList(options.maxProblems ?? 1000);
  const stats: VerifyStats = { events: 0, stateEvents: 0, redactedOnReceipt: 0 };
  const pinned = (options.expectKeys ?? []).length > 0;
  const finish = (manifest: Manifest | undefined): VerifyReport => ({
    ok: problems.total === 0,
    problems: problems.sorted(),
    problemsOmitted: problems.omitted,
    manifest,
    pinned,
    stats,
  });

  const manifestResult = await readManifest(path.join(dir, FILES.manifest));
  if (typeof manifestResult === 'string') {
    problems.add({ code: 'manifest', file: FILES.manifest, message: manifestResult });
    return finish(undefined);
  }
  const { manifest, json: manifestJson } = manifestResult;
  checkManifestSignature(manifest, manifestJson, options.expectKeys ?? [], problems);

  const rules = roomVersionRules(manifest.room_version);
  if (rules === undefined) {
    problems.add({ code: 'manifest', file: FILES.manifest, message: `unsupported room version ${manifest.room_version}` });
    return finish(manifest);
  }

  for (const file of HASHED_FILES) {
    if (manifest.files[file] === undefined) problems.add({ code: 'manifest', file: FILES.manifest, message: `the manifest lists no digest for ${file}` });
  }
  // events.jsonl and state.jsonl are hashed while their lines are read.
  for (const file of [FILES.keys, FILES.transcript]) {
    const digest = await hashFile(path.join(dir, file));
    compareDigest(file, digest, manifest, problems);
  }

  await checkMedia(dir, manifest, problems);

  const keys = await readKeysFile(path.join(dir, FILES.keys), problems);
  // Starting a worker costs more than checking a few thousand events on this thread.
  const workers = options.workers ?? (manifest.counts.events < SMALL_BUNDLE_EVENTS ? 0 : 1);
  const pool = new CheckPool(rules, keys, manifest.scope, workers);
  try {
    const state = await checkLines(dir, FILES.state, pool, problems, stats, undefined);
    stats.stateEvents = state.lines;
    compareDigest(FILES.state, state.digest, manifest, problems);
    if (state.digest !== undefined && state.lines !== manifest.counts.state_events) {
      problems.add({ code: 'count', file: FILES.state, message: `state.jsonl has ${state.lines} events, the manifest says ${manifest.counts.state_events}` });
    }

    const order = new EventOrderCheck(manifest, problems);
    const events = await checkLines(dir, FILES.events, pool, problems, stats, order);
    stats.events = events.lines;
    compareDigest(FILES.events, events.digest, manifest, problems);
    if (events.digest !== undefined) {
      order.finish();
      if (events.lines !== manifest.counts.events) {
        problems.add({
          code: 'count',
          file: FILES.events,
          message: `events.jsonl has ${events.lines} events, the manifest says ${manifest.counts.events}: events were removed or added`,
        });
      }
      if (order.chainHead !== manifest.hash_chain.head) {
        problems.add({
          code: 'chain',
          file: FILES.events,
          message: 'the hash chain over events.jsonl does not end at the head the manifest records: lines were edited, removed, added or reordered',
        });
      }
    }
  } finally {
    await pool.close();
  }
  return finish(manifest);
}

/** Each bundled media file against the SHA-256 and size the (signed) manifest lists. */
async function checkMedia(dir: string, manifest: Manifest, problems: ProblemList): Promise<void> {
  const media = manifest.media;
  if (media === undefined) return;
  if (typeof media !== 'object' || media === null || !Array.isArray(media.files)) {
    problems.add({ code: 'manifest', file: FILES.manifest, message: 'the manifest\'s media list is malformed' });
    return;
  }
  const checked = new Map<string, Digest | undefined>();
  for (const entry of media.files) {
    const sha256 = typeof entry?.sha256 === 'string' ? entry.sha256 : '';
    const file = `${MEDIA_DIR}/${sha256}`;
    // The name comes from the manifest: only a SHA-256 may name a file here.
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      problems.add({ code: 'manifest', file: FILES.manifest, message: `media entry ${String(entry?.uri)} has no valid sha256` });
      continue;
    }
    if (!checked.has(sha256)) checked.set(sha256, await hashFile(path.join(dir, MEDIA_DIR, sha256)));
    const digest = checked.get(sha256);
    if (digest === undefined) problems.add({ code: 'file-missing', file, message: `the media file of ${String(entry.uri)} is missing from the bundle` });
    else if (digest.sha256 !== sha256 || digest.bytes !== entry.bytes) {
      problems.add({ code: 'file-hash', file, message: `the media file of ${String(entry.uri)} does not match the manifest's SHA-256 and size: it was altered` });
    }
  }
}

/** Keeps the first `limit` problems and counts the rest. */
class ProblemList {
  readonly #limit: number;
  readonly #kept: Problem[] = [];
  total = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(problem: Problem): void {
    this.total++;
    if (this.#kept.length < this.#limit) this.#kept.push(problem);
  }

  get omitted(): number {
    return this.total - this.#kept.length;
  }

  sorted(): Problem[] {
    const rank = (p: Problem): number => (p.file === FILES.manifest ? 0 : p.file === undefined ? 1 : 2);
    return [...this.#kept].sort(
      (a, b) => rank(a) - rank(b) || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0),
    );
  }
}

async function readManifest(file: string): Promise<{ manifest: Manifest; json: JsonObject } | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `cannot read the manifest (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  let json;
  try {
    json = parseJsonStrict(text);
  } catch (error) {
    if (error instanceof JsonParseError) return `the manifest is not valid JSON (${error.message})`;
    throw error;
  }
  if (!isJsonObject(json)) return 'the manifest is not a JSON object';
  const missing = manifestShapeError(json);
  if (missing !== undefined) return `the manifest is malformed: ${missing}`;
  return { manifest: json as unknown as Manifest, json };
}

function manifestShapeError(json: JsonObject): string | undefined {
  if (getField(json, 'format') !== 'stoa-export-v1') return 'format is not "stoa-export-v1"';
  for (const key of ['server_name', 'room_version'] as const) {
    if (typeof getField(json, key) !== 'string') return `${key} is missing`;
  }
  for (const key of ['scope', 'counts', 'hash_chain', 'files', 'verify_keys', 'signatures'] as const) {
    if (!isJsonObject(getField(json, key))) return `${key} is missing`;
  }
  const scope = getField(json, 'scope') as JsonObject;
  if (typeof getField(scope, 'room_id') !== 'string') return 'scope.room_id is missing';
  if (typeof getField(scope, 'up_to_stream_ordering') !== 'number') return 'scope.up_to_stream_ordering is missing';
  const counts = getField(json, 'counts') as JsonObject;
  if (typeof getField(counts, 'events') !== 'number' || typeof getField(counts, 'state_events') !== 'number') return 'counts are missing';
  if (typeof getField(getField(json, 'hash_chain') as JsonObject, 'head') !== 'string') return 'hash_chain.head is missing';
  if (!Array.isArray(getField(json, 'boundary_events'))) return 'boundary_events is missing';
  return undefined;
}

function checkManifestSignature(manifest: Manifest, json: JsonObject, pins: readonly PinnedKey[], problems: ProblemList): void {
  const report = (code: ProblemCode, message: string): void => problems.add({ code, file: FILES.manifest, message });
  const server = manifest.server_name;
  const verified: string[] = [];
  for (const [keyId, encoded] of Object.entries(manifest.verify_keys)) {
    const key = decodeKey(encoded);
    if (key !== undefined && verifyJsonSignature(json, server, keyId, key)) verified.push(keyId);
  }
  if (verified.length === 0) {
    report('manifest-signature', `the manifest's signature by ${server} does not verify under the keys it lists: the manifest was altered`);
  }
  if (pins.length > 0) {
    const pinOk = pins.some((pin) => {
      const key = decodeKey(pin.publicKey);
      return key !== undefined && verifyJsonSignature(json, server, pin.keyId, key);
    });
    if (!pinOk) {
      report(
        'pinned-key',
        `the manifest is not signed by the expected key (${pins.map((p) => p.keyId).join(', ')}): it was not exported by the server you pinned, or was altered`,
      );
    }
  }
}

function decodeKey(encoded: unknown): Uint8Array | undefined {
  if (typeof encoded !== 'string') return undefined;
  try {
    const key = decodeBase64(encoded);
    return key.length === 32 ? key : undefined;
  } catch {
    return undefined;
  }
}

async function readKeysFile(file: string, problems: ProblemList): Promise<KeysFile> {
  const empty: KeysFile = { servers: {} };
  let json;
  try {
    json = parseJsonStrict(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty; // reported as a missing file
    problems.add({ code: 'keys-file', file: FILES.keys, message: `keys.json is unreadable (${(error as Error).message}); no signature can be checked` });
    return empty;
  }
  const servers = isJsonObject(json) ? getField(json, 'servers') : undefined;
  if (!isJsonObject(servers)) {
    problems.add({ code: 'keys-file', file: FILES.keys, message: 'keys.json has no "servers" object; no signature can be checked' });
    return empty;
  }
  const result: Record<string, Record<string, { key: string; valid_until_ts: null; expired_ts: null; source: 'cache' }>> = {};
  for (const [server, entries] of Object.entries(servers)) {
    if (!isJsonObject(entries)) continue;
    const keys: Record<string, { key: string; valid_until_ts: null; expired_ts: null; source: 'cache' }> = {};
    for (const [keyId, entry] of Object.entries(entries)) {
      const key = isJsonObject(entry) ? getField(entry, 'key') : undefined;
      if (typeof key === 'string') keys[keyId] = { key, valid_until_ts: null, expired_ts: null, source: 'cache' };
    }
    result[server] = keys;
  }
  return { servers: result };
}

interface Digest {
  readonly sha256: string;
  readonly bytes: number;
}

async function hashFile(file: string): Promise<Digest | undefined> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function compareDigest(file: string, digest: Digest | undefined, manifest: Manifest, problems: ProblemList): void {
  const expected = manifest.files[file];
  if (digest === undefined) {
    problems.add({ code: 'file-missing', file, message: `${file} is missing from the bundle` });
    return;
  }
  if (expected === undefined) return;
  if (expected.sha256 !== digest.sha256 || expected.bytes !== digest.bytes) {
    problems.add({ code: 'file-hash', file, message: `the SHA-256 of ${file} does not match the manifest: the file was altered` });
  }
}

/**
 * Reads `file` in chunks of whole lines, hashing it as it goes, and has each chunk checked
 * (./check-event-line.ts, on the pool's workers); the results are taken in file order, so
 * `order` sees the lines in sequence. Holds a few chunks at a time, whatever the file's size.
 */
async function checkLines(
  dir: string,
  file: string,
  pool: CheckPool,
  problems: ProblemList,
  stats: VerifyStats,
  order: EventOrderCheck | undefined,
): Promise<{ lines: number; digest: Digest | undefined }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  const inFlight: Promise<ChunkCheckResult>[] = [];
  const maxInFlight = pool.size * 2 + 3;
  const absorb = (result: ChunkCheckResult): void => {
    stats.redactedOnReceipt += result.redactedOnReceipt;
    for (const p of result.problems) {
      problems.add({ code: p.code, file, line: lines + p.line, ...(p.eventId === undefined ? {} : { eventId: p.eventId }), message: p.message });
    }
    if (order !== undefined && result.order !== undefined) order.observe(result.order, result.lines, lines);
    lines += result.lines;
  };
  const dispatch = async (chunk: Uint8Array): Promise<void> => {
    const checked = pool.check(chunk, order !== undefined);
    // A failure is reported when this chunk's turn comes, not as an unhandled rejection.
    checked.catch(() => undefined);
    inFlight.push(checked);
    if (inFlight.length >= maxInFlight) absorb(await (inFlight.shift() as Promise<ChunkCheckResult>));
  };
  let handle;
  try {
    handle = await open(path.join(dir, file), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, digest: undefined };
    throw error;
  }
  // The next read is always under way while a chunk is checked: a read is queued on libuv's
  // thread pool behind the signature verifications already there, so one started only
  // after them would leave the pool idle while this thread waits for it and then parses.
  const fileHandle = handle;
  const readNext = (): Promise<{ bytesRead: number; buffer: Buffer }> =>
    fileHandle.read(Buffer.allocUnsafe(CHUNK_BYTES), 0, CHUNK_BYTES, null);
  let reading = readNext();
  try {
    // The file after its last line break so far (the start of a line), in the pieces read:
    // joined once its line ends, so a line of any length is copied once.
    let pieces: Uint8Array[] = [];
    let piecesLength = 0;
    const joined = (extra: Uint8Array): Uint8Array => {
      // A buffer of its own per chunk, so it can be handed to a worker without a copy.
      const chunk = new Uint8Array(piecesLength + extra.length);
      let at = 0;
      for (const piece of pieces) {
        chunk.set(piece, at);
        at += piece.length;
      }
      chunk.set(extra, at);
      return chunk;
    };
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      reading = readNext();
      const data = buffer.subarray(0, bytesRead);
      hash.update(data);
      bytes += bytesRead;
      const lastNewline = data.lastIndexOf(10);
      if (lastNewline === -1) {
        pieces.push(data);
        piecesLength += data.length;
        continue;
      }
      const chunk = joined(data.subarray(0, lastNewline + 1));
      pieces = [data.subarray(lastNewline + 1)];
      piecesLength = bytesRead - lastNewline - 1;
      await dispatch(chunk);
    }
    if (piecesLength > 0) await dispatch(joined(new Uint8Array(0)));
    while (inFlight.length > 0) absorb(await (inFlight.shift() as Promise<ChunkCheckResult>));
  } finally {
    // Results and reads not taken after a failure must not reject unobserved.
    for (const pending of inFlight) pending.catch(() => undefined);
    await reading.catch(() => undefined);
    await handle.close();
  }
  return { lines, digest: { sha256: hash.digest('hex'), bytes } };
}

interface PendingPrev {
  readonly line: number;
  readonly eventId: string;
  readonly timeline: boolean;
}

/**
 * Checks 4–5 over events.jsonl in file order: the hash chain, stream and outlier order,
 * duplicates and the DAG. Each line's hash, ID and prev events come from the chunk checks
 * (which also did the per-line scope checks), so this thread only does what needs the
 * lines in sequence.
 */
class EventOrderCheck {
  readonly #manifest: Manifest;
  readonly #problems: ProblemList;
  readonly #chain: HashChain;
  readonly #seen: EventIdSet;
  readonly #pending = new Map<string, PendingPrev>();
  #lastStream = -Infinity;
  #inOutliers = false;
  #lastOutlierKey: [number, string] | undefined;

  constructor(manifest: Manifest, problems: ProblemList) {
    this.#manifest = manifest;
    this.#problems = problems;
    this.#chain = new HashChain(manifest.scope);
    this.#seen = new EventIdSet(manifest.counts.events);
  }

  get chainHead(): string {
    return this.#chain.head;
  }

  /** The `count` lines of one chunk, the first being line `before + 1` of the file. */
  observe(info: LineOrderInfo, count: number, before: number): void {
    for (let i = 0; i < count; i++) {
      this.#chain.pushLineHash(info.lineHashes.subarray(i * 32, i * 32 + 32));
      const kind = info.kinds[i];
      if (kind === 0 || kind === undefined) continue; // unreadable: reported by the chunk checks
      this.#observeEvent(info, i, before + i + 1, kind === 1);
    }
  }

  #observeEvent(info: LineOrderInfo, i: number, line: number, timeline: boolean): void {
    const eventId = info.eventIds[i] ?? '';
    const position = info.positions[i] ?? 0;
    const report = (code: ProblemCode, message: string): void =>
      this.#problems.add({ code, file: FILES.events, line, eventId, message });

    if (timeline) {
      if (this.#inOutliers) report('stream-order', 'a timeline event after the outliers: lines were reordered');
      else if (position <= this.#lastStream) {
        report('stream-order', `stream ordering ${position} follows ${this.#lastStream}: lines were reordered or repeated`);
      }
      this.#lastStream = Math.max(this.#lastStream, position);
    } else {
      this.#inOutliers = true;
      const key: [number, string] = [position, eventId];
      const last = this.#lastOutlierKey;
      if (last !== undefined && (key[0] < last[0] || (key[0] === last[0] && key[1] <= last[1]))) {
        report('stream-order', 'outliers are not in the order they were received: lines were reordered');
      }
      this.#lastOutlierKey = key;
    }

    const keys = info.eventIdKeys;
    if (!this.#seen.addKey(keys[2 * i] ?? 0, keys[2 * i + 1] ?? 0)) report('duplicate', 'the event appears more than once');
    if (this.#pending.size > 0) {
      const waiting = this.#pending.get(eventId);
      if (waiting !== undefined) {
        this.#pending.delete(eventId);
        if (waiting.timeline && timeline) {
          report('dag-order', `the event comes after ${waiting.eventId} (line ${waiting.line}), which names it as a prev event: lines were reordered`);
        }
      }
    }
    const prevKeys = info.prevKeys;
    for (let p = info.prevStart[i] ?? 0, end = info.prevStart[i + 1] ?? 0; p < end; p++) {
      if (this.#seen.hasKey(prevKeys[2 * p] ?? 0, prevKeys[2 * p + 1] ?? 0)) continue;
      const prev = info.prevIds[p] ?? '';
      if (!this.#pending.has(prev)) this.#pending.set(prev, { line, eventId, timeline });
    }
  }

  /** After the last line: prev events never seen must be declared boundaries. */
  finish(): void {
    const boundary = new Set(this.#manifest.boundary_events);
    for (const [prev, first] of this.#pending) {
      if (boundary.has(prev)) continue;
      this.#problems.add({
        code: 'dag-missing-prev',
        file: FILES.events,
        line: first.line,
        eventId: first.eventId,
        message: `prev event ${prev} is neither in the bundle nor a declared boundary: an event was removed`,
      });
    }
  }
}
