// The room event closest to a timestamp (client-server and server-server
// `/timestamp_to_event`), by `origin_server_ts` over the room's timeline events (migration
// 0014 indexes `(room_id, origin_server_ts)`). Outliers, rejected and soft-failed events are
// not part of the timeline and are never answered.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface TimestampedEvent {
  readonly eventId: string;
  readonly originServerTs: number;
}

export class EventTimestampsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /**
   * `f`: the first event at or after `ts`; `b`: the last event at or before `ts`. Ties on
   * the timestamp go to the event earliest (`f`) or latest (`b`) in the stream.
   */
  async closest(roomId: string, ts: number, dir: 'f' | 'b'): Promise<TimestampedEvent | undefined> {
    const order = dir === 'f' ? 'asc' : 'desc';
    const row = await this.#db
      .selectFrom('events')
      .select(['event_id', 'origin_server_ts'])
      .where('room_id', '=', roomId)
      .where('origin_server_ts', dir === 'f' ? '>=' : '<=', ts)
      .where('stream_ordering', 'is not', null)
      .where('outlier', '=', false)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('origin_server_ts', order)
      .orderBy('stream_ordering', order)
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { eventId: row.event_id, originServerTs: Number(row.origin_server_ts) };
  }
}
