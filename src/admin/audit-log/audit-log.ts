// The tamper-evident admin audit log (issue 8 item 6): every admin and compliance action —
// who (actor), what (action), target, when (ts), from where (origin) and its parameters —
// appended to a hash chain in the database:
//
//   hash_0 = GENESIS = sha256("stoa-audit-log-v1")
//   hash_n = sha256(hash_{n-1} ‖ sha256(canonical JSON of entry n without its hashes))
//
// `seq` is gapless from 1. Verification re-walks the chain: an altered entry changes its
// hash; a removed one leaves a gap in `seq` and a `prev_hash` that names a missing row.
// Truncating the newest entries leaves a valid shorter chain: compare the head that
// `verify` reports with one recorded elsewhere (--expect-head) to catch that.

import { createHash } from 'node:crypto';
import { canonicalJson, CanonicalJsonError } from '../../rooms/canonical-json.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { AuditLogRepository, type AuditLogRow } from '../../storage/audit-log-repository.ts';

export const AUDIT_LOG_GENESIS = createHash('sha256').update('stoa-audit-log-v1').digest('hex');

export interface AuditAction {
  /** A user ID, or `cli:<os user>` for the command line. */
  readonly actor: string;
  /** e.g. `export-room`, `deactivate-user`. */
  readonly action: string;
  readonly target: string | null;
  /** The client's IP address, or `cli@<host>`. */
  readonly origin: string;
  readonly details?: JsonObject;
}

export interface AuditEntry extends AuditAction {
  readonly seq: number;
  readonly ts: number;
  readonly details: JsonObject;
  readonly prevHash: string;
  readonly hash: string;
}

/** The hash of entry `seq`, chained to `prevHash`. */
export function auditEntryHash(prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string {
  const body = canonicalJson({
    seq: entry.seq,
    ts: entry.ts,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    origin: entry.origin,
    details: entry.details,
  });
  const entryHash = createHash('sha256').update(body).digest();
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(entryHash).digest('hex');
}

export interface AuditLogProblem {
  readonly seq: number;
  readonly message: string;
}

export interface AuditLogVerdict {
  readonly ok: boolean;
  readonly entries: number;
  /** The last entry's seq and hash: record it elsewhere to detect truncation later. */
  readonly head: { readonly seq: number; readonly hash: string };
  readonly problems: readonly AuditLogProblem[];
}

const PAGE = 1000;

export class AuditLog {
  readonly #repository: AuditLogRepository;
  readonly #clock: () => number;

  constructor(db: StoaDatabase, clock: () => number = Date.now) {
    this.#repository = new AuditLogRepository(db);
    this.#clock = clock;
  }

  async append(action: AuditAction): Promise<AuditEntry> {
    const ts = this.#clock();
    const details = action.details ?? {};
    const row = await this.#repository.append((last) => {
      const entry = { seq: (last?.seq ?? 0) + 1, ts, actor: action.actor, action: action.action, target: action.target, origin: action.origin, details };
      const prevHash = last?.hash ?? AUDIT_LOG_GENESIS;
      return { ...entry, details: canonicalJson(details), prevHash, hash: auditEntryHash(prevHash, entry) };
    });
    return toEntry(row);
  }

  /** Entries after `afterSeq`, oldest first (for the admin API and exports). */
  async read(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    return (await this.#repository.page(afterSeq, limit)).map(toEntry);
  }

  /** Re-walks the whole chain page by page; every problem is reported, not just the first. */
  async verify(expectHead?: { seq: number; hash: string }): Promise<AuditLogVerdict> {
    const problems: AuditLogProblem[] = [];
    let prev = { seq: 0, hash: AUDIT_LOG_GENESIS };
    let entries = 0;
    let headSeen = expectHead === undefined;
    for (let after = 0; ; ) {
      const rows = await this.#repository.page(after, PAGE);
      for (const row of rows) {
        entries++;
        if (row.seq !== prev.seq + 1) problems.push({ seq: row.seq, message: `entries ${prev.seq + 1}–${row.seq - 1} are missing (removed)` });
        if (row.prevHash !== prev.hash) problems.push({ seq: row.seq, message: 'prev_hash does not match the entry before it: an entry before it was altered or removed' });
        if (!hashMatches(row)) problems.push({ seq: row.seq, message: 'the entry was altered: its hash does not match its content' });
        if (expectHead !== undefined && row.seq === expectHead.seq) {
          headSeen = true;
          if (row.hash !== expectHead.hash) problems.push({ seq: row.seq, message: 'the entry differs from the recorded head' });
        }
        prev = { seq: row.seq, hash: row.hash };
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE) break;
      after = last.seq;
    }
    if (!headSeen && expectHead !== undefined) {
      problems.push({ seq: expectHead.seq, message: `the recorded head entry ${expectHead.seq} is gone: the log was truncated` });
    }
    return { ok: problems.length === 0, entries, head: prev, problems };
  }
}

function hashMatches(row: AuditLogRow): boolean {
  try {
    return auditEntryHash(row.prevHash, toEntry(row)) === row.hash;
  } catch (error) {
    // details edited into something canonical JSON refuses (a float, a huge integer).
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
}

function toEntry(row: AuditLogRow): AuditEntry {
  let details: JsonObject = {};
  try {
    const parsed: unknown = JSON.parse(row.details);
    if (isJsonObject(parsed)) details = parsed;
  } catch {
    // An unparsable `details` was altered; the hash check reports it.
    details = { unparsable: row.details };
  }
  return {
    seq: row.seq,
    ts: row.ts,
    actor: row.actor,
    action: row.action,
    target: row.target,
    origin: row.origin,
    details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
