// The federation sender's durable queue (DESIGN.md "Data model": `federation_outbox`, rows
// that point at events) and the health of each destination (`destinations`: failures,
// backoff, last success). Rows are deleted once a destination acknowledged the transaction
// that carried them, so whatever is in the table after a restart is still to be sent.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface OutboxPdu {
  readonly id: number;
  readonly eventId: string;
  readonly roomId: string;
  /** The event JSON as stored. */
  readonly json: string;
}

export interface OutboxEdu {
  readonly id: number;
  readonly json: string;
}

export interface OutboxBatch {
  readonly pdus: readonly OutboxPdu[];
  readonly edus: readonly OutboxEdu[];
}

export interface DestinationHealthRow {
  readonly destination: string;
  readonly failureCount: number;
  /** When the last attempt failed (ms), null after a success. */
  readonly retryLastTs: number | null;
  /** How long to wait after `retryLastTs` before the next attempt (ms). */
  readonly retryIntervalMs: number;
  readonly lastSuccessTs: number | null;
}

export class FederationOutboxRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /** Queues one event for each destination; returns nothing to send when `destinations` is empty. */
  async enqueuePdu(destinations: readonly string[], eventId: string, queuedTs: number): Promise<void> {
    const unique = [...new Set(destinations)];
    if (unique.length === 0) return;
    await this.#db
      .insertInto('federation_outbox')
      .values(unique.map((destination) => ({ destination, event_id: eventId, edu_json: null, queued_ts: queuedTs })))
      .execute();
  }

  /**
   * Queues events just written to `roomId` (in the write's own transaction, so an event is
   * never committed without its rows) for every server with members joined to the room
   * and, per event, its membership target's server; never for `us`. Rows go in the events'
   * order. Returns each event's destinations.
   */
  async enqueueRoomEvents(
    roomId: string,
    events: ReadonlyArray<{ readonly eventId: string; readonly targetServer: string | undefined }>,
    us: string,
    queuedTs: number,
  ): Promise<Map<string, string[]>> {
    const queued = new Map<string, string[]>();
    if (events.length === 0) return queued;
    const values = sql.join(events.map((e, i) => sql`(${e.eventId}::text, ${e.targetServer ?? null}::text, ${i}::int)`));
    // A user ID's server name is everything after its first colon.
    const { rows } = await sql<{ destination: string; event_id: string }>`
      with joined as (
        select distinct substring(state_key from position(':' in state_key) + 1) as destination
        from current_state where room_id = ${roomId} and type = 'm.room.member' and membership = 'join'
      ), ev(event_id, target, ord) as (values ${values})
      insert into federation_outbox (destination, event_id, edu_json, queued_ts)
      select d.destination, ev.event_id, null, ${queuedTs}::int8
      from ev cross join lateral (select destination from joined union select ev.target where ev.target is not null) d
      where d.destination <> ${us}
      order by ev.ord, d.destination
      returning destination, event_id`.execute(this.#db);
    for (const row of rows) {
      let list = queued.get(row.event_id);
      if (list === undefined) queued.set(row.event_id, (list = []));
      list.push(row.destination);
    }
    return queued;
  }

  async enqueueEdu(destination: string, eduJson: string, queuedTs: number): Promise<void> {
    await this.#db
      .insertInto('federation_outbox')
      .values({ destination, event_id: null, edu_json: eduJson, queued_ts: queuedTs })
      .execute();
  }

  /** Every destination with at least one queued row. */
  async pendingDestinations(): Promise<string[]> {
    const rows = await this.#db.selectFrom('federation_outbox').select('destination').distinct().execute();
    return rows.map((r) => r.destination).sort();
  }

  /** The oldest queued PDUs (at most `maxPdus`) and EDUs (at most `maxEdus`) for `destination`. */
  async nextBatch(destination: string, maxPdus: number, maxEdus: number): Promise<OutboxBatch> {
    const pdus = await this.#db
      .selectFrom('federation_outbox as o')
      .innerJoin('events as e', 'e.event_id', 'o.event_id')
      .select(['o.id', 'e.event_id', 'e.room_id', 'e.json'])
      .where('o.destination', '=', destination)
      .where('o.event_id', 'is not', null)
      .orderBy('o.id')
      .limit(maxPdus)
      .execute();
    const edus = await this.#db
      .selectFrom('federation_outbox')
      .select(['id', 'edu_json'])
      .where('destination', '=', destination)
      .where('edu_json', 'is not', null)
      .orderBy('id')
      .limit(maxEdus)
      .execute();
    return {
      pdus: pdus.map((r) => ({ id: Number(r.id), eventId: r.event_id, roomId: r.room_id, json: r.json })),
      edus: edus.flatMap((r) => (r.edu_json === null ? [] : [{ id: Number(r.id), json: r.edu_json }])),
    };
  }

  /**
   * A transaction the destination took: its rows go and the destination counts as healthy,
   * in one commit that does not wait for the disk. Lost in a database crash, the rows are
   * sent again, and the destination recognises their events by ID: not worth an fsync per
   * transaction on the delivery path.
   */
  async acknowledge(destination: string, ids: readonly number[], ts: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit to off`.execute(trx);
      const repository = new FederationOutboxRepository(trx);
      await repository.remove(ids);
      await repository.recordSuccess(destination, ts);
    });
  }

  /** Removes rows a destination acknowledged. */
  async remove(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#db.deleteFrom('federation_outbox').where('id', 'in', [...ids]).execute();
  }

  async queuedCount(destination: string): Promise<number> {
    const row = await this.#db
      .selectFrom('federation_outbox')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('destination', '=', destination)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Queued rows per destination. */
  async queuedCounts(): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('federation_outbox')
      .select(['destination', (eb) => eb.fn.countAll<string | number>().as('n')])
      .groupBy('destination')
      .execute();
    return new Map(rows.map((r) => [r.destination, Number(r.n)]));
  }

  /**
   * Catch-up after an outage: drops all but the newest `keepPerRoom` queued PDUs of each
   * room for `destination` (the receiver fetches the gap with get_missing_events). EDUs stay.
   * Returns how many rows were dropped.
   */
  async keepLatestPerRoom(destination: string, keepPerRoom: number): Promise<number> {
    const result = await sql<{ id: number }>`
      delete from federation_outbox where id in (
        select id from (
          select o.id, row_number() over (partition by e.room_id order by o.id desc) as rank
          from federation_outbox o join events e on e.event_id = o.event_id
          where o.destination = ${destination}
        ) ranked
        where ranked.rank > ${keepPerRoom}
      )
      returning id`.execute(this.#db);
    return result.rows.length;
  }

  // --- destinations ----------------------------------------------------------------------

  async destination(destination: string): Promise<DestinationHealthRow | undefined> {
    const row = await this.#db.selectFrom('destinations').selectAll().where('destination', '=', destination).executeTakeFirst();
    return row === undefined ? undefined : healthOf(row);
  }

  async destinations(): Promise<DestinationHealthRow[]> {
    const rows = await this.#db.selectFrom('destinations').selectAll().orderBy('destination').execute();
    return rows.map(healthOf);
  }

  async recordSuccess(destination: string, ts: number): Promise<void> {
    await this.#db
      .insertInto('destinations')
      .values({ destination, failure_count: 0, retry_last_ts: null, retry_interval_ms: 0, last_success_ts: ts })
      .onConflict((oc) =>
        oc.column('destination').doUpdateSet({ failure_count: 0, retry_last_ts: null, retry_interval_ms: 0, last_success_ts: ts }),
      )
      .execute();
  }

  /** Records a failed attempt at `ts` after which the destination is left alone for `retryIntervalMs`. */
  async recordFailure(destination: string, ts: number, retryIntervalMs: number): Promise<void> {
    await this.#db
      .insertInto('destinations')
      .values({ destination, failure_count: 1, retry_last_ts: ts, retry_interval_ms: retryIntervalMs, last_success_ts: null })
      .onConflict((oc) =>
        oc.column('destination').doUpdateSet((eb) => ({
          failure_count: eb('destinations.failure_count', '+', 1),
          retry_last_ts: ts,
          retry_interval_ms: retryIntervalMs,
        })),
      )
      .execute();
  }
}

function healthOf(row: {
  destination: string;
  failure_count: number;
  retry_last_ts: number | null;
  retry_interval_ms: number;
  last_success_ts: number | null;
}): DestinationHealthRow {
  return {
    destination: row.destination,
    failureCount: Number(row.failure_count),
    retryLastTs: row.retry_last_ts === null ? null : Number(row.retry_last_ts),
    retryIntervalMs: Number(row.retry_interval_ms),
    lastSuccessTs: row.last_success_ts === null ? null : Number(row.last_success_ts),
  };
}
