// The room DAG's events: rows as received, prev and auth edges, forward extremities, stream
// ordering, redaction marks and client transaction IDs (DESIGN.md "Data model"). Writes
// happen inside the roomserver's per-room transaction (see ./room-store.ts); this file only
// knows SQL, not the protocol.

import { sql, type Kysely, type Selectable } from 'kysely';
import { STREAM_SEQUENCES, type Database, type EventsTable } from '../../schema/database.ts';

export interface StoredEvent {
  readonly eventId: string;
  readonly roomId: string;
  /** null for outliers. */
  readonly streamOrdering: number | null;
  readonly depth: number;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly originServerTs: number;
  /** The event's JSON exactly as stored (as received, or the redacted copy on a hash mismatch). */
  readonly json: string;
  readonly roomVersion: string;
  readonly outlier: boolean;
  readonly rejectedReason: string | null;
  readonly softFailed: boolean;
  readonly redactedBy: string | null;
  readonly redacts: string | null;
  readonly stateBeforeSnapshotId: number | null;
  readonly receivedTs: number;
}

export interface NewEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly streamOrdering: number | null;
  readonly depth: number;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly originServerTs: number;
  readonly json: string;
  readonly roomVersion: string;
  readonly outlier: boolean;
  readonly rejectedReason: string | null;
  readonly softFailed: boolean;
  readonly redacts: string | null;
  readonly stateBeforeSnapshotId: number | null;
  readonly receivedTs: number;
  readonly prevEventIds: readonly string[];
  readonly authEventIds: readonly string[];
}

export interface ExtremityRow {
  readonly eventId: string;
  readonly depth: number;
  readonly streamOrdering: number | null;
  readonly json: string;
}

/** What a write to a room starts from, read in one round trip under the room's lock. */
export interface RoomHead {
  /** The forward extremities, newest first (as `forwardExtremities`). */
  readonly extremities: Array<{ readonly eventId: string; readonly depth: number; readonly streamOrdering: number | null }>;
  /** The room's highest stream ordering, -1 when it has none. */
  readonly maxStreamOrdering: number;
  /** The event recorded for the client transaction asked about, if any. */
  readonly transactionEvent: { readonly eventId: string; readonly streamOrdering: number | null } | undefined;
}

/** The writes of one event, done in one statement (see `persist`). */
export interface EventPersistence {
  readonly event: NewEvent;
  /** Allocate the event's stream ordering from the sequence (`event.streamOrdering` is then ignored). */
  readonly allocateStreamOrdering: boolean;
  readonly removeExtremities: readonly string[];
  /** Make the event a forward extremity, unless a stored event already follows it. */
  readonly addAsExtremity: boolean;
  readonly transaction?: { readonly txn: EventTransaction; readonly createdTs: number };
}

export interface PersistedEvent {
  readonly streamOrdering: number | null;
  /** A stored event lists it among its prev events (it arrived after its successor). */
  readonly followed: boolean;
  /** Accepted redaction events that name it were stored before it (see `redactionsOf`). */
  readonly redactionsWaiting: boolean;
}

export type Direction = 'forward' | 'backward';

export interface EventRangeQuery {
  readonly roomId: string;
  /** Exclusive lower bound of stream orderings. */
  readonly after: number;
  /** Inclusive upper bound of stream orderings. */
  readonly upTo: number;
  readonly limit: number;
  /** forward: the oldest `limit` events of the range, ascending; backward: the newest, descending. */
  readonly direction: Direction;
}

export interface EventTransaction {
  readonly roomId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly txnId: string;
}

export class EventsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The event row, its prev edges and its auth edges. Fails if the event ID exists. */
  async insert(event: NewEvent): Promise<void> {
    await this.insertMany([event]);
  }

  /**
   * Stores events (with their edges and auth links) in a few multi-row statements: a join's
   * thousands of state and auth-chain outliers are not thousands of round trips.
   */
  async insertMany(events: readonly NewEvent[]): Promise<void> {
    // 17 parameters a row; PostgreSQL takes at most 65,535 per statement.
    for (let i = 0; i < events.length; i += 1000) {
      const chunk = events.slice(i, i + 1000);
      await this.#db
        .insertInto('events')
        .values(
          chunk.map((event) => ({
            event_id: event.eventId,
            room_id: event.roomId,
            stream_ordering: event.streamOrdering,
            depth: event.depth,
            type: event.type,
            state_key: event.stateKey,
            sender: event.sender,
            origin_server_ts: event.originServerTs,
            json: event.json,
            room_version: event.roomVersion,
            outlier: event.outlier,
            rejected_reason: event.rejectedReason,
            soft_failed: event.softFailed,
            redacted_by: null,
            redacts: event.redacts,
            state_before_snapshot_id: event.stateBeforeSnapshotId,
            received_ts: event.receivedTs,
          })),
        )
        .execute();
    }
    const edges = events.flatMap((event) => [...new Set(event.prevEventIds)].map((prev) => ({ event_id: event.eventId, prev_event_id: prev })));
    for (let i = 0; i < edges.length; i += 10_000) {
      await this.#db.insertInto('event_edges').values(edges.slice(i, i + 10_000)).execute();
    }
    const auths = events.flatMap((event) => [...new Set(event.authEventIds)].map((auth) => ({ event_id: event.eventId, auth_event_id: auth })));
    for (let i = 0; i < auths.length; i += 10_000) {
      await this.#db.insertInto('event_auth').values(auths.slice(i, i + 10_000)).execute();
    }
  }

  /**
   * Stores an event as `insert` does, and with it, in the same statement, the forward
   * extremity changes and the client transaction: one round trip for a whole send. Returns
   * the stream ordering (allocated here when asked) and what was stored about the event
   * before it (read in the statement's snapshot, which does not see the statement's writes).
   */
  async persist(p: EventPersistence): Promise<PersistedEvent> {
    const e = p.event;
    const id = e.eventId;
    const ctes = [];
    const prevs = [...new Set(e.prevEventIds)];
    if (prevs.length > 0) {
      ctes.push(sql`edges as (insert into event_edges (event_id, prev_event_id) values ${sql.join(prevs.map((prev) => sql`(${id}, ${prev})`))})`);
    }
    const auths = [...new Set(e.authEventIds)];
    if (auths.length > 0) {
      ctes.push(sql`auths as (insert into event_auth (event_id, auth_event_id) values ${sql.join(auths.map((auth) => sql`(${id}, ${auth})`))})`);
    }
    if (p.removeExtremities.length > 0) {
      ctes.push(sql`fx_removed as (delete from forward_extremities where room_id = ${e.roomId} and event_id in (${sql.join([...p.removeExtremities])}))`);
    }
    if (p.addAsExtremity) {
      ctes.push(sql`fx_added as (insert into forward_extremities (room_id, event_id)
        select ${e.roomId}, ${id} where not exists (select 1 from event_edges where prev_event_id = ${id}) on conflict do nothing)`);
    }
    const t = p.transaction;
    if (t !== undefined) {
      ctes.push(sql`txn as (insert into event_transactions (room_id, user_id, device_id, txn_id, event_id, created_ts)
        values (${t.txn.roomId}, ${t.txn.userId}, ${t.txn.deviceId}, ${t.txn.txnId}, ${id}, ${t.createdTs}))`);
    }
    const streamOrdering = p.allocateStreamOrdering ? sql`nextval(${STREAM_SEQUENCES.events})` : sql`${e.streamOrdering}::int8`;
    // Data-modifying CTEs all run, referenced or not; foreign keys are checked at the end of
    // the statement, when the event row exists.
    const { rows } = await sql<{ stream_ordering: number | null; followed: boolean; redactions: boolean }>`
      with ev as (
        insert into events (event_id, room_id, stream_ordering, depth, type, state_key, sender, origin_server_ts, json,
          room_version, outlier, rejected_reason, soft_failed, redacted_by, redacts, state_before_snapshot_id, received_ts)
        values (${id}, ${e.roomId}, ${streamOrdering}, ${e.depth}, ${e.type}, ${e.stateKey}, ${e.sender}, ${e.originServerTs},
          ${e.json}, ${e.roomVersion}, ${e.outlier}, ${e.rejectedReason}, ${e.softFailed}, null, ${e.redacts},
          ${e.stateBeforeSnapshotId}, ${e.receivedTs})
        returning stream_ordering
      )${ctes.length > 0 ? sql`, ${sql.join(ctes)}` : sql``}
      select stream_ordering,
        exists (select 1 from event_edges where prev_event_id = ${id}) as followed,
        exists (select 1 from events where redacts = ${id} and rejected_reason is null and soft_failed = false) as redactions
      from ev`.execute(this.#db);
    const row = rows[0];
    if (row === undefined) throw new Error(`storing ${id} returned no row`);
    return { streamOrdering: row.stream_ordering, followed: row.followed, redactionsWaiting: row.redactions };
  }

  /** The room's forward extremities, highest stream ordering and a client transaction's event, at once. */
  async roomHead(roomId: string, txn?: EventTransaction): Promise<RoomHead> {
    const txnPart =
      txn === undefined
        ? sql``
        : sql`union all
          select 't', e.event_id, e.depth, e.stream_ordering from event_transactions t join events e on e.event_id = t.event_id
          where t.room_id = ${txn.roomId} and t.user_id = ${txn.userId} and t.device_id = ${txn.deviceId} and t.txn_id = ${txn.txnId}`;
    const { rows } = await sql<{ kind: string; event_id: string | null; depth: number | null; stream_ordering: number | null }>`
      select 'x' as kind, e.event_id, e.depth, e.stream_ordering
      from forward_extremities f join events e on e.event_id = f.event_id where f.room_id = ${roomId}
      union all
      select 'm', null, null, (select max(stream_ordering) from events where room_id = ${roomId})
      ${txnPart}`.execute(this.#db);
    const extremities: Array<{ eventId: string; depth: number; streamOrdering: number | null }> = [];
    let maxStreamOrdering = -1;
    let transactionEvent: RoomHead['transactionEvent'];
    for (const row of rows) {
      if (row.kind === 'm') maxStreamOrdering = row.stream_ordering ?? -1;
      else if (row.event_id === null) continue;
      else if (row.kind === 't') transactionEvent = { eventId: row.event_id, streamOrdering: row.stream_ordering };
      else extremities.push({ eventId: row.event_id, depth: row.depth ?? 0, streamOrdering: row.stream_ordering });
    }
    // As forwardExtremities: stream ordering descending (nulls first), then event ID.
    extremities.sort((a, b) => {
      if (a.streamOrdering !== b.streamOrdering) {
        if (a.streamOrdering === null) return -1;
        if (b.streamOrdering === null) return 1;
        return b.streamOrdering - a.streamOrdering;
      }
      return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
    });
    return { extremities, maxStreamOrdering, transactionEvent };
  }

  async byId(eventId: string): Promise<StoredEvent | undefined> {
    const row = await this.#db.selectFrom('events').selectAll().where('event_id', '=', eventId).executeTakeFirst();
    return row === undefined ? undefined : storedEventFromRow(row);
  }

  async byIds(eventIds: readonly string[]): Promise<StoredEvent[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('events')
      .selectAll()
      .where('event_id', 'in', [...new Set(eventIds)])
      .execute();
    return rows.map(storedEventFromRow);
  }

  /** The IDs among `eventIds` that are stored. */
  async existing(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom('events')
      .select('event_id')
      .where('event_id', 'in', [...new Set(eventIds)])
      .execute();
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * The auth chain of `eventIds`: every event reachable by auth edges, the starting events
   * excluded unless one is in another's chain. One recursive query; UNION stops at cycles.
   */
  async authChain(eventIds: readonly string[]): Promise<string[]> {
    if (eventIds.length === 0) return [];
    const { rows } = await sql<{ event_id: string }>`
      with recursive chain(event_id) as (
        select auth_event_id from event_auth where event_id in (${sql.join([...new Set(eventIds)])})
        union
        select a.auth_event_id from event_auth a join chain c on a.event_id = c.event_id
      )
      select event_id from chain`.execute(this.#db);
    return rows.map((r) => r.event_id);
  }

  /** Allocates the next position of the room-event stream (gaps on rollback are expected). */
  async nextStreamOrdering(): Promise<number> {
    const { rows } = await sql<{ position: number }>`select nextval(${STREAM_SEQUENCES.events}) as position`.execute(
      this.#db,
    );
    const position = rows[0]?.position;
    if (position === undefined) throw new Error('nextval returned no row');
    return position;
  }

  /**
   * `count` stream positions for backfilled events, ascending, all below every position
   * handed out before (room-event stream positions of backfilled history are negative).
   */
  async reserveBackfillPositions(count: number): Promise<number[]> {
    if (count <= 0) return [];
    const { rows } = await sql<{ position: number }>`
      select nextval('events_backfill_seq') as position from generate_series(1, ${count}::int)`.execute(this.#db);
    return rows.map((r) => -Number(r.position)).sort((a, b) => a - b);
  }

  /** The lowest backfill position handed out so far, 0 when none (where readers of backfilled history start). */
  async lowestBackfillPosition(): Promise<number> {
    const { rows } = await sql<{ last_value: number | string; is_called: boolean }>`
      select last_value, is_called from events_backfill_seq`.execute(this.#db);
    const row = rows[0];
    return row === undefined || !row.is_called ? 0 : -Number(row.last_value);
  }

  /** The room's earliest timeline event (lowest stream position), where backfill continues from. */
  async earliestTimelineEvent(roomId: string): Promise<StoredEvent | undefined> {
    const row = await this.#db
      .selectFrom('events')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('stream_ordering', 'is not', null)
      .orderBy('stream_ordering', 'asc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : storedEventFromRow(row);
  }

  /**
   * An outlier reached by backfill joins the timeline: its place in the stream and the state
   * before it. False when it is no longer an outlier.
   */
  async deOutlier(eventId: string, streamOrdering: number, stateBeforeSnapshotId: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('events')
      .set({ outlier: false, stream_ordering: streamOrdering, state_before_snapshot_id: stateBeforeSnapshotId })
      .where('event_id', '=', eventId)
      .where('outlier', '=', true)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The highest committed stream ordering, 0 when there is none. */
  async maxStreamOrdering(): Promise<number> {
    const row = await this.#db
      .selectFrom('events')
      .select((eb) => eb.fn.max('stream_ordering').as('max'))
      .executeTakeFirst();
    return row?.max ?? 0;
  }

  /** A room's forward extremities, newest first. */
  async forwardExtremities(roomId: string): Promise<ExtremityRow[]> {
    const rows = await this.#db
      .selectFrom('forward_extremities as f')
      .innerJoin('events as e', 'e.event_id', 'f.event_id')
      .select(['e.event_id', 'e.depth', 'e.stream_ordering', 'e.json'])
      .where('f.room_id', '=', roomId)
      .orderBy('e.stream_ordering', 'desc')
      .orderBy('e.event_id')
      .execute();
    return rows.map((r) => ({ eventId: r.event_id, depth: r.depth, streamOrdering: r.stream_ordering, json: r.json }));
  }

  async updateForwardExtremities(roomId: string, remove: readonly string[], add: readonly string[]): Promise<void> {
    if (remove.length > 0) {
      await this.#db
        .deleteFrom('forward_extremities')
        .where('room_id', '=', roomId)
        .where('event_id', 'in', [...remove])
        .execute();
    }
    if (add.length > 0) {
      await this.#db
        .insertInto('forward_extremities')
        .values(add.map((eventId) => ({ room_id: roomId, event_id: eventId })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  /** Whether a stored event lists `eventId` among its prev events. */
  async hasSuccessor(eventId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('event_edges')
      .select('event_id')
      .where('prev_event_id', '=', eventId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Marks `targetId` redacted by `redactionId` unless an earlier redaction already did. */
  async markRedacted(targetId: string, redactionId: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('events')
      .set({ redacted_by: redactionId })
      .where('event_id', '=', targetId)
      .where('redacted_by', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Accepted redaction events (not rejected, not soft-failed) that name `targetId`. */
  async redactionsOf(targetId: string): Promise<StoredEvent[]> {
    const rows = await this.#db
      .selectFrom('events')
      .selectAll()
      .where('redacts', '=', targetId)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('stream_ordering')
      .execute();
    return rows.map(storedEventFromRow);
  }

  /** A room's timeline events (not outliers, not rejected, not soft-failed) in a stream range. */
  async inRange(query: EventRangeQuery): Promise<StoredEvent[]> {
    if (query.limit <= 0 || query.upTo <= query.after) return [];
    const rows = await this.#db
      .selectFrom('events')
      .selectAll()
      .where('room_id', '=', query.roomId)
      .where('stream_ordering', '>', query.after)
      .where('stream_ordering', '<=', query.upTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('stream_ordering', query.direction === 'forward' ? 'asc' : 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(storedEventFromRow);
  }

  async recordTransaction(txn: EventTransaction, eventId: string, createdTs: number): Promise<void> {
    await this.#db
      .insertInto('event_transactions')
      .values({
        room_id: txn.roomId,
        user_id: txn.userId,
        device_id: txn.deviceId,
        txn_id: txn.txnId,
        event_id: eventId,
        created_ts: createdTs,
      })
      .execute();
  }

  async eventForTransaction(txn: EventTransaction): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('event_transactions')
      .select('event_id')
      .where('room_id', '=', txn.roomId)
      .where('user_id', '=', txn.userId)
      .where('device_id', '=', txn.deviceId)
      .where('txn_id', '=', txn.txnId)
      .executeTakeFirst();
    return row?.event_id;
  }
}

/** One `events` row as the rest of Stoa sees it; every reader of the table maps rows here. */
export function storedEventFromRow(row: Selectable<EventsTable>): StoredEvent {
  return {
    eventId: row.event_id,
    roomId: row.room_id,
    streamOrdering: row.stream_ordering,
    depth: row.depth,
    type: row.type,
    stateKey: row.state_key,
    sender: row.sender,
    originServerTs: row.origin_server_ts,
    json: row.json,
    roomVersion: row.room_version,
    outlier: row.outlier,
    rejectedReason: row.rejected_reason,
    softFailed: row.soft_failed,
    redactedBy: row.redacted_by,
    redacts: row.redacts,
    stateBeforeSnapshotId: row.state_before_snapshot_id,
    receivedTs: row.received_ts,
  };
}
