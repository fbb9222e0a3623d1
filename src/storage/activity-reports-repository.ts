// Activity figures for operators (issue 8 item 7): messages and active senders per day,
// median response time, media volume — over the whole server or one room, for a time
// range [fromTs, toTs) of `origin_server_ts` (media: of the upload time). Days are UTC days
// numbered from the epoch. Read-only; each figure is one grouped query.
//
// "Messages" are the accepted timeline events people send: m.room.message, m.room.encrypted
// and m.sticker, not rejected or soft-failed ones. A "response" is a message whose previous
// message in the same room came from a different sender; its response time is the gap.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export const MESSAGE_TYPES: readonly string[] = ['m.room.message', 'm.room.encrypted', 'm.sticker'];
const DAY_MS = 86_400_000;

export interface ReportRange {
  /** null: the whole server. */
  readonly roomId: string | null;
  readonly fromTs: number;
  readonly toTs: number;
}

export interface DayMessages {
  readonly day: number;
  readonly messages: number;
  readonly activeUsers: number;
}

export interface DayMedian {
  /** null: the whole range. */
  readonly day: number | null;
  readonly medianMs: number;
  readonly responses: number;
}

export interface DayMedia {
  readonly day: number;
  readonly uploads: number;
  readonly bytes: number;
}

export class ActivityReportsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  #messages(range: ReportRange) {
    let query = this.#db
      .selectFrom('events')
      .where('type', 'in', [...MESSAGE_TYPES])
      .where('state_key', 'is', null)
      .where('stream_ordering', 'is not', null)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .where('origin_server_ts', '>=', range.fromTs)
      .where('origin_server_ts', '<', range.toTs);
    if (range.roomId !== null) query = query.where('room_id', '=', range.roomId);
    return query;
  }

  async messagesPerDay(range: ReportRange): Promise<DayMessages[]> {
    const day = sql<number>`(origin_server_ts / ${sql.lit(DAY_MS)})`;
    const rows = await this.#messages(range)
      .select([day.as('day'), (eb) => eb.fn.countAll().as('messages'), sql<number>`count(distinct sender)`.as('senders')])
      .groupBy(day)
      .orderBy(day)
      .execute();
    return rows.map((r) => ({ day: Number(r.day), messages: Number(r.messages), activeUsers: Number(r.senders) }));
  }

  async activeUsers(range: ReportRange): Promise<number> {
    const row = await this.#messages(range).select(sql<number>`count(distinct sender)`.as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Medians of response times per day of the response, and (day null) over the range. */
  async responseMedians(range: ReportRange): Promise<DayMedian[]> {
    const gaps = this.#messages(range).select([
      'origin_server_ts as ts',
      'sender',
      sql<string | null>`lag(sender) over (partition by room_id order by stream_ordering)`.as('prev_sender'),
      sql<number | null>`lag(origin_server_ts) over (partition by room_id order by stream_ordering)`.as('prev_ts'),
    ]);
    const responses = this.#db
      .selectFrom(gaps.as('m'))
      .where('m.prev_sender', 'is not', null)
      .where((eb) => eb('m.prev_sender', '<>', eb.ref('m.sender')))
      .where((eb) => eb('m.ts', '>=', eb.ref('m.prev_ts')));
    const median = sql<number>`percentile_cont(0.5) within group (order by m.ts - m.prev_ts)`;
    const day = sql<number>`(m.ts / ${sql.lit(DAY_MS)})`;
    const perDay = await responses.select([day.as('day'), median.as('median'), (eb) => eb.fn.countAll().as('n')]).groupBy(day).orderBy(day).execute();
    const overall = await responses.select([median.as('median'), (eb) => eb.fn.countAll().as('n')]).executeTakeFirst();
    const result: DayMedian[] = perDay.map((r) => ({ day: Number(r.day), medianMs: Number(r.median), responses: Number(r.n) }));
    if (overall !== undefined && Number(overall.n) > 0) result.push({ day: null, medianMs: Number(overall.median), responses: Number(overall.n) });
    return result;
  }

  /** Local uploads per day (the server report). */
  async uploadsPerDay(fromTs: number, toTs: number): Promise<DayMedia[]> {
    const day = sql<number>`(stored_ts / ${sql.lit(DAY_MS)})`;
    const rows = await this.#db
      .selectFrom('media')
      .where('user_id', 'is not', null)
      .where('stored_ts', '>=', fromTs)
      .where('stored_ts', '<', toTs)
      .select([day.as('day'), (eb) => eb.fn.countAll().as('n'), sql<number>`coalesce(sum(size), 0)`.as('bytes')])
      .groupBy(day)
      .orderBy(day)
      .execute();
    return rows.map((r) => ({ day: Number(r.day), uploads: Number(r.n), bytes: Number(r.bytes) }));
  }

  /** The room's messages that carry a media URL: their time and JSON (the room report sums `info.size`). */
  async mediaMessages(range: ReportRange & { readonly roomId: string }, afterStream: number, limit: number): Promise<Array<{ streamOrdering: number; ts: number; json: string }>> {
    const rows = await this.#messages(range)
      .where('json', 'like', '%"url"%')
      .where('stream_ordering', '>', afterStream)
      .select(['stream_ordering', 'origin_server_ts', 'json'])
      .orderBy('stream_ordering')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ streamOrdering: Number(r.stream_ordering), ts: Number(r.origin_server_ts), json: r.json }));
  }

  async roomExists(roomId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('rooms').select('room_id').where('room_id', '=', roomId).executeTakeFirst();
    return row !== undefined;
  }
}
