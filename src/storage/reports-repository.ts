// Reports of events, rooms and users (client-server § "Reporting Content"), kept for the
// server's administrators: the admin API lists them, newest first.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export type ReportKind = 'event' | 'room' | 'user';

export interface NewReport {
  readonly ts: number;
  readonly reporter: string;
  readonly kind: ReportKind;
  readonly roomId?: string;
  readonly eventId?: string;
  readonly targetUserId?: string;
  readonly reason?: string;
  readonly score?: number;
}

export interface StoredReport extends NewReport {
  readonly id: number;
}

export class ReportsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async add(report: NewReport): Promise<number> {
    const row = await this.#db
      .insertInto('content_reports')
      .values({
        ts: report.ts,
        reporter: report.reporter,
        kind: report.kind,
        room_id: report.roomId ?? null,
        event_id: report.eventId ?? null,
        target_user_id: report.targetUserId ?? null,
        reason: report.reason ?? null,
        score: report.score ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Newest first; `before` is an `id` from an earlier page. */
  async list(options: { readonly limit: number; readonly before?: number }): Promise<StoredReport[]> {
    let query = this.#db.selectFrom('content_reports').selectAll().orderBy('id', 'desc').limit(options.limit);
    if (options.before !== undefined) query = query.where('id', '<', options.before);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      ts: Number(r.ts),
      reporter: r.reporter,
      kind: r.kind,
      ...(r.room_id === null ? {} : { roomId: r.room_id }),
      ...(r.event_id === null ? {} : { eventId: r.event_id }),
      ...(r.target_user_id === null ? {} : { targetUserId: r.target_user_id }),
      ...(r.reason === null ? {} : { reason: r.reason }),
      ...(r.score === null ? {} : { score: r.score }),
    }));
  }
}
