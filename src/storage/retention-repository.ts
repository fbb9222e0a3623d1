// Retention and redaction pruning (issue 8 items 3 and 4; migration 0020): finding events
// whose content may be purged, and purging it. A purge keeps the event's row — its ID, its
// place in the DAG, its hashes and signatures — and replaces the stored JSON with the
// event's redacted form, which is what its signatures cover: the room stays valid for every
// server, and an export of it still verifies. Every candidate query and the purge itself
// skip events under an active legal hold (the purge re-checks, in its own statement, so a
// hold created while a batch was being prepared still wins).

import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

/** A room and the content of its current `m.room.retention` state event, if any. */
export interface RoomRetentionRow {
  readonly roomId: string;
  readonly retentionJson: string | null;
}

/** An event whose content may be purged. */
export interface PurgeCandidate {
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly roomVersion: string;
  readonly json: string;
}

export interface PurgeRecord {
  readonly eventId: string;
  readonly roomId: string;
  /** The redacted form, replacing the stored JSON. */
  readonly json: string;
  readonly originalSha256: string;
}

export interface PurgedEventRow {
  readonly eventId: string;
  readonly roomId: string;
  readonly reason: 'retention' | 'redaction';
  readonly purgedTs: number;
  readonly originalSha256: string;
}

type EventsScope = ExpressionBuilder<Database, 'events'>;

/** No active hold on the event's room or on its sender. */
function notHeld(eb: EventsScope): Expression<SqlBool> {
  return eb.not(
    eb.exists(
      eb
        .selectFrom('legal_holds')
        .select('legal_holds.hold_id')
        .where('legal_holds.released_ts', 'is', null)
        .where((h) =>
          h.or([
            h.and([h('legal_holds.scope', '=', 'room'), h('legal_holds.target', '=', h.ref('events.room_id'))]),
            h.and([h('legal_holds.scope', '=', 'user'), h('legal_holds.target', '=', h.ref('events.sender'))]),
          ]),
        ),
    ),
  );
}

function notPurged(eb: EventsScope): Expression<SqlBool> {
  return eb.not(eb.exists(eb.selectFrom('purged_events').select('purged_events.event_id').where('purged_events.event_id', '=', eb.ref('events.event_id'))));
}

export class RetentionRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async roomPolicies(): Promise<RoomRetentionRow[]> {
    const rows = await this.#db
      .selectFrom('rooms')
      .leftJoin('current_state', (join) =>
        join.onRef('current_state.room_id', '=', 'rooms.room_id').on('current_state.type', '=', 'm.room.retention').on('current_state.state_key', '=', ''),
      )
      .leftJoin('events', 'events.event_id', 'current_state.event_id')
      .select(['rooms.room_id', 'events.json', 'events.redacted_by'])
      .orderBy('rooms.room_id')
      .execute();
    // A redacted m.room.retention event has no content left: no policy.
    return rows.map((row) => ({ roomId: row.room_id, retentionJson: row.redacted_by === null ? row.json : null }));
  }

  /**
   * Non-state events of the room sent before `beforeTs`, not purged yet and not under hold,
   * oldest first. State events are never candidates: the current state must stay, and
   * earlier state is what the room's auth chain and state resolution are built from. The
   * room's latest events (its forward extremities and its newest event) stay too, so the
   * room keeps a timeline to continue from.
   */
  async expiredEvents(roomId: string, beforeTs: number, limit: number): Promise<PurgeCandidate[]> {
    const rows = await this.#db
      .selectFrom('events')
      .select(['event_id', 'room_id', 'sender', 'room_version', 'json'])
      .where('room_id', '=', roomId)
      .where('state_key', 'is', null)
      .where('origin_server_ts', '<', beforeTs)
      .where(notPurged)
      .where(notHeld)
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('forward_extremities').select('forward_extremities.event_id').where('forward_extremities.event_id', '=', eb.ref('events.event_id')))),
      )
      .where((eb) =>
        eb.or([
          eb('stream_ordering', 'is', null),
          eb(
            'stream_ordering',
            '<',
            eb.selectFrom('events as latest').select((l) => l.fn.max('latest.stream_ordering').as('m')).where('latest.room_id', '=', roomId),
          ),
        ]),
      )
      .orderBy('origin_server_ts')
      .orderBy('event_id')
      .limit(limit)
      .execute();
    return rows.map(candidate);
  }

  /** Redacted events whose redaction arrived before `redactedBeforeTs`, original still stored, not under hold. */
  async prunableRedacted(redactedBeforeTs: number, limit: number): Promise<PurgeCandidate[]> {
    const rows = await this.#db
      .selectFrom('events')
      .innerJoin('events as redaction', 'redaction.event_id', 'events.redacted_by')
      .select(['events.event_id', 'events.room_id', 'events.sender', 'events.room_version', 'events.json'])
      .where('events.redacted_by', 'is not', null)
      .where('redaction.received_ts', '<', redactedBeforeTs)
      .where(notPurged)
      .where(notHeld)
      .orderBy('events.event_id')
      .limit(limit)
      .execute();
    return rows.map(candidate);
  }

  /**
   * Replaces each event's JSON with its redacted form and records the purge; also removes
   * the copies of its content other tables hold (search text, reaction keys). An event put
   * under hold since it was chosen is left alone. Returns the IDs actually purged.
   */
  async purge(records: readonly PurgeRecord[], reason: 'retention' | 'redaction', ts: number): Promise<string[]> {
    if (records.length === 0) return [];
    return this.#db.transaction().execute(async (tx) => {
      const purged: string[] = [];
      for (const record of records) {
        const result = await tx
          .updateTable('events')
          .set({ json: record.json })
          .where('event_id', '=', record.eventId)
          .where(notHeld)
          .where(notPurged)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) continue;
        purged.push(record.eventId);
        await tx
          .insertInto('purged_events')
          .values({ event_id: record.eventId, room_id: record.roomId, reason, purged_ts: ts, original_sha256: record.originalSha256 })
          .execute();
      }
      if (purged.length > 0) {
        await tx.deleteFrom('event_search').where('event_id', 'in', purged).execute();
        await tx.updateTable('event_relations').set({ annotation_key: null }).where('event_id', 'in', purged).execute();
      }
      return purged;
    });
  }

  /** Whether any stored event or profile still names the media URI (after a purge, purged events do not). */
  async mediaStillReferenced(mxcUri: string): Promise<boolean> {
    // `_` is a LIKE wildcard and may appear in media IDs: a false match only keeps the file.
    const pattern = `%${mxcUri.replace(/[\\%]/g, (c) => `\\${c}`)}%`;
    const event = await this.#db.selectFrom('events').select('event_id').where('json', 'like', pattern).limit(1).executeTakeFirst();
    if (event !== undefined) return true;
    const profile = await this.#db.selectFrom('profiles').select('user_id').where('fields', 'like', pattern).limit(1).executeTakeFirst();
    return profile !== undefined;
  }

  /** The purge record of a room (or the server), newest first. */
  async purgedEvents(options: { roomId?: string; afterTs?: number; limit: number }): Promise<PurgedEventRow[]> {
    let query = this.#db.selectFrom('purged_events').selectAll();
    if (options.roomId !== undefined) query = query.where('room_id', '=', options.roomId);
    if (options.afterTs !== undefined) query = query.where('purged_ts', '>', options.afterTs);
    const rows = await query.orderBy('purged_ts', 'desc').orderBy('event_id').limit(options.limit).execute();
    return rows.map((row) => ({
      eventId: row.event_id,
      roomId: row.room_id,
      reason: row.reason,
      purgedTs: Number(row.purged_ts),
      originalSha256: row.original_sha256,
    }));
  }

  async roomHasPurges(roomId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('purged_events').select('event_id').where('room_id', '=', roomId).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Which of `eventIds` were purged (for the export's line metadata). */
  async purgedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await this.#db.selectFrom('purged_events').select('event_id').where('event_id', 'in', [...eventIds]).execute();
    return new Set(rows.map((r) => r.event_id));
  }
}

function candidate(row: { event_id: string; room_id: string; sender: string; room_version: string; json: string }): PurgeCandidate {
  return { eventId: row.event_id, roomId: row.room_id, sender: row.sender, roomVersion: row.room_version, json: row.json };
}

