// The export bundle's format, "stoa-export-v1": a directory of
//
//   manifest.json    what was exported (scope), by whom, when, counts, per-file SHA-256, the
//                    head of the hash chain over events.jsonl, the exporting server's verify
//                    key(s); signed with the server's signing key (appendices § "Signing JSON")
//   events.jsonl     one line per event, exactly as stored (see EventLine)
//   state.jsonl      the room state at the start of the range, same line format
//   keys.json        the verify keys of every server whose signature the events carry
//   transcript.html  a readable rendering for people; not evidence (not in the chain)
//
// Order of events.jsonl: timeline events by stream ordering (the order this server accepted
// them, a topological order of the DAG), then outliers (events with no timeline position:
// auth/state events fetched over federation, some rejected events) by the time this server
// received them, ties by event ID.

import type { JsonObject } from '../../rooms/json.ts';

export const BUNDLE_FORMAT = 'stoa-export-v1';

export const FILES = {
  manifest: 'manifest.json',
  events: 'events.jsonl',
  state: 'state.jsonl',
  keys: 'keys.json',
  transcript: 'transcript.html',
} as const;

/** Folder of a bundle's media files (`--with-media`), each named by its SHA-256. */
export const MEDIA_DIR = 'media';

/** One media item the exported events name, bundled as `media/<sha256>`. */
export interface BundledMedia {
  /** `mxc://server/id`. */
  readonly uri: string;
  /** Lowercase hex SHA-256 of the bytes; also the file name under `media/`. */
  readonly sha256: string;
  readonly bytes: number;
  readonly content_type: string | null;
}

/** Files whose SHA-256 the manifest lists (everything but the manifest itself). */
export const HASHED_FILES: readonly string[] = [FILES.events, FILES.state, FILES.keys, FILES.transcript];

/** What an export covers. Canonical JSON of this seeds the hash chain. */
export interface ExportScope {
  readonly room_id: string;
  /** Inclusive lower bound on `origin_server_ts`, or null for the room's start. */
  readonly since_ts: number | null;
  /** Exclusive upper bound on `origin_server_ts`, or null for "until the export began". */
  readonly until_ts: number | null;
  /** The user whose rooms were exported, when the export was by custodian. */
  readonly custodian: string | null;
  /** The last stream ordering the export read: events after it arrived during the export. */
  readonly up_to_stream_ordering: number;
}

/** The metadata of one line of events.jsonl / state.jsonl; the PDU follows as `pdu`. */
export interface EventLineMeta {
  readonly event_id: string;
  /** null for outliers. */
  readonly stream_ordering: number | null;
  readonly outlier: boolean;
  /** Failed the auth rules on receipt; the reason as recorded. */
  readonly rejected_reason: string | null;
  /** Passed its auth events but not the current state (server-server § "Soft failure"). */
  readonly soft_failed: boolean;
  /** The redaction that applies to it; the PDU still holds the original content as stored. */
  readonly redacted_by: string | null;
  readonly received_ts: number;
  /**
   * Present (true) when retention or redaction pruning purged the event's content: the PDU
   * is the event's redacted form, which its hashes no longer match but its ID and
   * signatures still do. Absent on every other event.
   */
  readonly content_purged?: true;
}

export interface EventLine extends EventLineMeta {
  readonly pdu: JsonObject;
}

export interface FileDigest {
  readonly sha256: string;
  readonly bytes: number;
  readonly lines?: number;
}

export interface ManifestCounts {
  readonly events: number;
  readonly state_events: number;
  readonly timeline: number;
  readonly outliers: number;
  readonly rejected: number;
  readonly soft_failed: number;
  readonly redacted: number;
  /** Events whose content retention or redaction pruning purged (absent in older bundles). */
  readonly content_purged?: number;
  readonly servers: number;
}

export interface Manifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly server_name: string;
  readonly exported_at: number;
  readonly room_version: string;
  readonly scope: ExportScope;
  readonly counts: ManifestCounts;
  /** h_0 = sha256(format ‖ canonical JSON of scope); h_i = sha256(h_{i-1} ‖ sha256(line_i)); hex. */
  readonly hash_chain: { readonly algorithm: 'sha256'; readonly head: string };
  readonly files: Readonly<Record<string, FileDigest>>;
  /** prev_events that exported events name but that lie before the range (or were never stored). */
  readonly boundary_events: readonly string[];
  readonly encryption: { readonly encrypted: boolean; readonly algorithm: string | null; readonly note: string };
  readonly notes: readonly string[];
  /**
   * Present when media was bundled: the media files (under `media/`), and the `mxc://`
   * URIs the events name that this server could not provide (remote media not cached,
   * deleted or purged media).
   */
  readonly media?: { readonly files: readonly BundledMedia[]; readonly missing: readonly string[] };
  /** The exporting server's verify keys (key ID → unpadded base64), which sign this manifest. */
  readonly verify_keys: Readonly<Record<string, string>>;
}

/** keys.json: server → key ID → key; `expired_ts` set for keys the server has retired. */
export interface KeysFile {
  readonly servers: Readonly<Record<string, Readonly<Record<string, BundledKey>>>>;
}

export interface BundledKey {
  readonly key: string;
  readonly valid_until_ts: number | null;
  readonly expired_ts: number | null;
  /** "own": the exporting server's key; "cache": from its cache of remote servers' keys. */
  readonly source: 'own' | 'cache';
}

/**
 * One line: the metadata, then the PDU text as stored. JSON text can hold a line break only
 * as whitespace between tokens (never inside a string), so line breaks become spaces: the
 * PDU's value — what hashes and signatures cover — is unchanged.
 */
export function formatEventLine(meta: EventLineMeta, pduText: string): string {
  const head = JSON.stringify(meta);
  const pdu = /[\r\n]/.test(pduText) ? pduText.replace(/[\r\n]/g, ' ') : pduText;
  return `${head.slice(0, -1)},"pdu":${pdu}}`;
}
