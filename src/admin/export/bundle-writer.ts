// Writes an export bundle (./bundle-format.ts) from streams of event rows, wherever they
// come from (the database for `stoa export-room`; synthetic rows in tests): events.jsonl,
// state.jsonl and transcript.html line by line as the rows arrive, then keys.json and the
// signed manifest. What grows with the room is one compact set of event IDs (for the DAG
// boundary) and the set of signing servers; everything else streams.

import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { signJson } from '../../crypto/signed-json.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { ExportEventRow } from '../../storage/export-queries.ts';
import {
  BUNDLE_FORMAT,
  FILES,
  MEDIA_DIR,
  type BundledMedia,
  formatEventLine,
  type EventLineMeta,
  type ExportScope,
  type FileDigest,
  type KeysFile,
  type Manifest,
} from './bundle-format.ts';
import { encryptionAlgorithmOf, prevEventIdsOf, signingServersOf } from './event-fields.ts';
import { EventIdSet } from './event-id-set.ts';
import { HashChain } from './hash-chain.ts';
import { HashingWriter } from './hashing-writer.ts';
import { TRANSCRIPT_FOOTER, TRANSCRIPT_SECTION_END, transcriptHeader, transcriptRow, transcriptSectionStart } from './transcript.ts';

/** An event row and whether its content was purged (retention or redaction pruning). */
export type BundleEventRow = ExportEventRow & { readonly purged?: boolean };

export interface BundleInput {
  /** An existing, empty directory. */
  readonly outDir: string;
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly roomVersion: string;
  readonly scope: ExportScope;
  readonly exportedAt: number;
  /** The state at the start of the range. */
  readonly stateEvents: AsyncIterable<BundleEventRow>;
  /** Timeline rows by stream ordering, then outliers (stream ordering null). */
  readonly events: AsyncIterable<BundleEventRow>;
  /** The verify keys of the servers that signed the exported events. */
  keysFor(servers: ReadonlySet<string>): Promise<KeysFile>;
  /** Set: the media the events name is bundled under media/ (`--with-media`). */
  readonly media?: BundleMediaSource;
}

/** Where bundled media comes from (the media store); undefined when it has no such item. */
export interface BundleMediaSource {
  open(uri: string): Promise<{ readonly contentType: string | null; readonly body: AsyncIterable<Uint8Array> } | undefined>;
}

const MXC_URI = /mxc:\/\/[A-Za-z0-9.:\[\]-]+\/[A-Za-z0-9_-]+/g;

const ENCRYPTED_NOTE =
  'The room uses end-to-end encryption: encrypted events are exported as stored — ciphertext and metadata (sender, time, device and session IDs). This server holds no keys to decrypt them.';
const NOT_ENCRYPTED_NOTE = 'No end-to-end encryption seen in the exported range or the state at its start.';

export async function writeBundle(input: BundleInput): Promise<Manifest> {
  const { scope } = input;
  const run = new ExportRun(scope);
  // The mxc:// URIs the events name: the one set besides the event IDs that grows with the room.
  const mediaUris = input.media === undefined ? undefined : new Set<string>();
  const events = new HashingWriter(path.join(input.outDir, FILES.events));
  const state = new HashingWriter(path.join(input.outDir, FILES.state));
  const transcript = new HashingWriter(path.join(input.outDir, FILES.transcript));
  try {
    await transcript.write(
      transcriptHeader({ serverName: input.serverName, roomId: scope.room_id, exportedAt: input.exportedAt, scope: describeScope(scope) }),
    );
    await transcript.write(transcriptSectionStart('State at the start of the range'));
    for await (const row of input.stateEvents) {
      const { line, pdu, meta } = lineOf(row);
      run.observeState(pdu);
      if (mediaUris !== undefined) collectMedia(row.json, mediaUris);
      await state.writeLine(line);
      await transcript.write(transcriptRow(meta, pdu));
    }
    await transcript.write(TRANSCRIPT_SECTION_END + transcriptSectionStart('Timeline'));
    let inOutliers = false;
    for await (const row of input.events) {
      if (row.streamOrdering === null && !inOutliers) {
        inOutliers = true;
        await transcript.write(TRANSCRIPT_SECTION_END + transcriptSectionStart('Outliers (events without a timeline position)'));
      }
      await run.writeEvent(row, events, transcript);
      if (mediaUris !== undefined) collectMedia(row.json, mediaUris);
    }
    await transcript.write(TRANSCRIPT_SECTION_END + TRANSCRIPT_FOOTER);
  } catch (error) {
    for (const writer of [events, state, transcript]) writer.destroy();
    throw error;
  }
  const eventsDigest = await events.close();
  const stateDigest = await state.close();
  const transcriptDigest = await transcript.close();

  const media = input.media === undefined || mediaUris === undefined ? undefined : await writeMedia(input.outDir, input.media, mediaUris);
  const keys = await input.keysFor(run.servers);
  const keysText = `${JSON.stringify(keys, null, 1)}\n`;
  await writeFile(path.join(input.outDir, FILES.keys), keysText, { flag: 'wx' });

  const missingKeys = [...run.servers].filter((server) => Object.keys(keys.servers[server] ?? {}).length === 0).sort();
  const notes = [
    'Events are exported exactly as stored, with their hashes and signatures; redacted events keep their original content where this server kept it, and redacted_by names the redaction.',
    'Rejected and soft-failed events are included and marked; they were never part of the room as clients saw it.',
    media === undefined
      ? 'Media (mxc:// URIs in events) is not included in this bundle.'
      : `Media the events name is in media/, one file per SHA-256 (listed under "media"); ${media.missing.length} URI(s) this server could not provide are listed as missing.`,
    ...(missingKeys.length === 0 ? [] : [`No verify keys were known for: ${missingKeys.join(', ')}; their signatures cannot be checked.`]),
  ];
  const unsigned: Manifest = {
    format: BUNDLE_FORMAT,
    server_name: input.serverName,
    exported_at: input.exportedAt,
    room_version: input.roomVersion,
    scope,
    counts: { ...run.counts, state_events: stateDigest.lines, servers: run.servers.size },
    hash_chain: { algorithm: 'sha256', head: run.chain.head },
    files: {
      [FILES.events]: eventsDigest,
      [FILES.state]: stateDigest,
      [FILES.keys]: digestOfText(keysText),
      [FILES.transcript]: { sha256: transcriptDigest.sha256, bytes: transcriptDigest.bytes },
    },
    boundary_events: run.boundaryEvents(),
    encryption:
      run.encryptionAlgorithm === undefined
        ? { encrypted: false, algorithm: null, note: NOT_ENCRYPTED_NOTE }
        : { encrypted: true, algorithm: run.encryptionAlgorithm, note: ENCRYPTED_NOTE },
    notes,
    ...(media === undefined ? {} : { media }),
    verify_keys: { [input.signingKey.keyId]: input.signingKey.publicKeyBase64 },
  };
  const manifest = signJson(unsigned as unknown as JsonObject, input.serverName, input.signingKey) as unknown as Manifest;
  await writeFile(path.join(input.outDir, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  return manifest;
}

/** The running totals of one export. */
class ExportRun {
  readonly chain: HashChain;
  readonly servers = new Set<string>();
  readonly counts = { events: 0, timeline: 0, outliers: 0, rejected: 0, soft_failed: 0, redacted: 0, content_purged: 0 };
  encryptionAlgorithm: string | undefined;
  readonly #seen = new EventIdSet();
  /** prev_events named before their event was seen: checked against #seen at the end. */
  readonly #pendingPrevs = new Set<string>();
  constructor(scope: ExportScope) {
    this.chain = new HashChain(scope);
  }

  observeState(pdu: JsonObject | undefined): void {
    if (pdu === undefined) return;
    for (const server of signingServersOf(pdu)) this.servers.add(server);
    this.encryptionAlgorithm ??= encryptionAlgorithmOf(pdu);
  }

  async writeEvent(row: BundleEventRow, events: HashingWriter, transcript: HashingWriter): Promise<void> {
    const { line, pdu, meta } = lineOf(row);
    // The chain hashes the line's bytes as they are encoded into the file's buffer.
    await events.writeLine(line, (bytes) => this.chain.push(bytes));
    await transcript.write(transcriptRow(meta, pdu));

    this.counts.events++;
    if (row.streamOrdering === null) this.counts.outliers++;
    else this.counts.timeline++;
    if (row.rejectedReason !== null) this.counts.rejected++;
    if (row.softFailed) this.counts.soft_failed++;
    if (row.redactedBy !== null) this.counts.redacted++;
    if (row.purged === true) this.counts.content_purged++;
    this.#seen.add(row.eventId);
    this.#pendingPrevs.delete(row.eventId);
    if (pdu === undefined) return;
    for (const server of signingServersOf(pdu)) this.servers.add(server);
    if (row.rejectedReason === null) this.encryptionAlgorithm ??= encryptionAlgorithmOf(pdu);
    for (const prev of prevEventIdsOf(pdu)) {
      if (!this.#seen.has(prev)) this.#pendingPrevs.add(prev);
    }
  }

  boundaryEvents(): string[] {
    return [...this.#pendingPrevs].filter((id) => !this.#seen.has(id)).sort();
  }
}

function lineOf(row: BundleEventRow): { line: string; pdu: JsonObject | undefined; meta: EventLineMeta } {
  const meta: EventLineMeta = {
    event_id: row.eventId,
    stream_ordering: row.streamOrdering,
    outlier: row.outlier,
    rejected_reason: row.rejectedReason,
    soft_failed: row.softFailed,
    redacted_by: row.redactedBy,
    received_ts: row.receivedTs,
    ...(row.purged === true ? { content_purged: true as const } : {}),
  };
  let pdu: JsonObject | undefined;
  try {
    const parsed: unknown = JSON.parse(row.json);
    pdu = isJsonObject(parsed) ? parsed : undefined;
  } catch {
    pdu = undefined;
  }
  return { line: formatEventLine(meta, row.json), pdu, meta };
}

function collectMedia(json: string, into: Set<string>): void {
  if (!json.includes('mxc://')) return;
  for (const match of json.matchAll(MXC_URI)) into.add(match[0]);
}

/** Copies each media item into media/<sha256> (identical bytes stored once), streaming. */
async function writeMedia(outDir: string, source: BundleMediaSource, uris: ReadonlySet<string>): Promise<{ files: BundledMedia[]; missing: string[] }> {
  const dir = path.join(outDir, MEDIA_DIR);
  await mkdir(dir);
  const files: BundledMedia[] = [];
  const missing: string[] = [];
  let n = 0;
  for (const uri of [...uris].sort()) {
    const item = await source.open(uri);
    if (item === undefined) {
      missing.push(uri);
      continue;
    }
    const partial = path.join(dir, `.partial-${++n}`);
    const writer = new HashingWriter(partial);
    try {
      for await (const chunk of item.body) await writer.write(chunk);
    } catch (error) {
      writer.destroy();
      await rm(partial, { force: true });
      throw error;
    }
    const digest = await writer.close();
    const final = path.join(dir, digest.sha256);
    if (files.some((f) => f.sha256 === digest.sha256)) await rm(partial);
    else await rename(partial, final);
    files.push({ uri, sha256: digest.sha256, bytes: digest.bytes, content_type: item.contentType });
  }
  return { files, missing };
}

function digestOfText(text: string): FileDigest {
  const bytes = Buffer.from(text, 'utf8');
  return { sha256: sha256Hex(bytes), bytes: bytes.length };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function describeScope(scope: ExportScope): string {
  const parts = [`room ${scope.room_id}`];
  if (scope.since_ts !== null) parts.push(`from ${new Date(scope.since_ts).toISOString()}`);
  if (scope.until_ts !== null) parts.push(`until ${new Date(scope.until_ts).toISOString()}`);
  if (scope.custodian !== null) parts.push(`custodian ${scope.custodian}`);
  parts.push(`up to stream position ${scope.up_to_stream_ordering}`);
  return parts.join(', ');
}
