// The admin audit log's rows (migration 0011). Appends are serialised by a transaction-scoped
// advisory lock, so `seq` stays gapless and each row's `prev_hash` is the row before it even
// with several Stoa processes on one PostgreSQL. The hash itself is the caller's to compute
// (src/admin/audit-log): storage knows rows, not the chain's rules.

import { sql, type Kysely, type Selectable } from 'kysely';
import type { AdminAuditLogTable, Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

/** The advisory lock key of audit-log appends ("STOA" namespace, key 0x41554449 "AUDI"). */
const AUDIT_LOCK = [0x5354_4f41, 0x4155_4449] as const;

export interface AuditLogRow {
  readonly seq: number;
  readonly ts: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly origin: string;
  readonly details: string;
  readonly prevHash: string;
  readonly hash: string;
}

export class AuditLogRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /**
   * Appends the row `build` makes from the current last row (undefined for the first), in
   * one transaction holding the log's lock.
   */
  async append(build: (last: AuditLogRow | undefined) => AuditLogRow): Promise<AuditLogRow> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${AUDIT_LOCK[0]}::int4, ${AUDIT_LOCK[1]}::int4)`.execute(trx);
      const last = await trx.selectFrom('admin_audit_log').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const row = build(last === undefined ? undefined : fromRow(last));
      await trx
        .insertInto('admin_audit_log')
        .values({
          seq: row.seq,
          ts: row.ts,
          actor: row.actor,
          action: row.action,
          target: row.target,
          origin: row.origin,
          details: row.details,
          prev_hash: row.prevHash,
          hash: row.hash,
        })
        .execute();
      return row;
    });
  }

  /** Rows with seq > `afterSeq`, ascending. */
  async page(afterSeq: number, limit: number): Promise<AuditLogRow[]> {
    const rows = await this.#db
      .selectFrom('admin_audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }
}

function fromRow(row: Selectable<AdminAuditLogTable>): AuditLogRow {
  return {
    seq: row.seq,
    ts: row.ts,
    actor: row.actor,
    action: row.action,
    target: row.target,
    origin: row.origin,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
