// Post-commit consumers of the room-event stream (relations index, push evaluation): each
// remembers the stream position it has processed up to, and reads the events after it.
// Consumers run outside the roomserver's write path; after a crash they resume from their
// position, so no event is skipped. Backfilled history sits below position 0 and grows
// downwards; a consumer that wants it (the search and relation indexes, not push nor
// application services: old messages are not news) keeps a second position, the lowest it
// has read, under its own name (../client-api/stream-consumer.ts), and reads below it.

import type { Kysely, Selectable } from 'kysely';
import type { Database, EventsTable } from '../../schema/database.ts';

export interface StreamEventRow {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly streamOrdering: number;
  readonly originServerTs: number;
  /** The event as stored (federation format, not redacted). */
  readonly json: string;
  readonly redacted: boolean;
}

const STREAM_EVENT_COLUMNS = ['event_id', 'room_id', 'type', 'state_key', 'sender', 'stream_ordering', 'origin_server_ts', 'json', 'redacted_by'] as const;

export class EventConsumersRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async position(consumer: string): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('event_consumer_positions')
      .select('position')
      .where('consumer', '=', consumer)
      .executeTakeFirst();
    return row?.position;
  }

  async setPosition(consumer: string, position: number): Promise<void> {
    await this.#db
      .insertInto('event_consumer_positions')
      .values({ consumer, position })
      .onConflict((oc) => oc.column('consumer').doUpdateSet({ position }))
      .execute();
  }

  /**
   * Accepted timeline events with a stream position in (after, upTo], oldest first. From a
   * position ≥ 0 (every consumer's start) this never includes backfilled history: the
   * pusher relies on that, so nobody is notified of old messages.
   */
  async eventsAfter(after: number, upTo: number, limit: number): Promise<StreamEventRow[]> {
    if (upTo <= after) return [];
    const rows = await this.#db
      .selectFrom('events')
      .select(STREAM_EVENT_COLUMNS)
      .where('stream_ordering', '>', after)
      .where('stream_ordering', '<=', upTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .where('outlier', '=', false)
      .orderBy('stream_ordering')
      .limit(limit)
      .execute();
    return rows.map(streamEventRowOf);
  }

  /**
   * Accepted backfilled timeline events with a stream position in [downTo, below), the
   * highest (newest) `limit` of them, returned oldest first.
   */
  async eventsBelow(below: number, downTo: number, limit: number): Promise<StreamEventRow[]> {
    if (downTo >= below) return [];
    const rows = await this.#db
      .selectFrom('events')
      .select(STREAM_EVENT_COLUMNS)
      .where('stream_ordering', '<', below)
      .where('stream_ordering', '>=', downTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .where('outlier', '=', false)
      .orderBy('stream_ordering', 'desc')
      .limit(limit)
      .execute();
    return rows.map(streamEventRowOf).reverse();
  }
}

function streamEventRowOf(r: Pick<Selectable<EventsTable>, (typeof STREAM_EVENT_COLUMNS)[number]>): StreamEventRow {
  return {
    eventId: r.event_id,
    roomId: r.room_id,
    type: r.type,
    stateKey: r.state_key,
    sender: r.sender,
    streamOrdering: r.stream_ordering ?? 0,
    originServerTs: r.origin_server_ts,
    json: r.json,
    redacted: r.redacted_by !== null,
  };
}
