// Streaming reads for the compliance export (src/admin/export): a room's events in pages,
// every row whatever its status (accepted, soft-failed, rejected, outlier), each page found
// by keyset pagination so memory stays flat and the cost per page stays constant however
// far into a room of millions of events the export is. Read-only.

import type { Kysely, Selectable } from 'kysely';
import type { Database, EventsTable } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';
import type { StoredEvent } from './events-repository.ts';

/** What an export reads of an event: the stored JSON exactly as received, and its status. */
export type ExportEventRow = Pick<
  StoredEvent,
  'eventId' | 'streamOrdering' | 'json' | 'outlier' | 'rejectedReason' | 'softFailed' | 'redactedBy' | 'receivedTs'
>;

/**
 * The columns of ExportEventRow, and nothing else: an export reads every row of a room, so
 * each column it does not need is parsed and collected millions of times for nothing.
 */
const EXPORT_COLUMNS = ['event_id', 'stream_ordering', 'json', 'outlier', 'rejected_reason', 'soft_failed', 'redacted_by', 'received_ts'] as const;

function exportRowOf(row: Pick<Selectable<EventsTable>, (typeof EXPORT_COLUMNS)[number]>): ExportEventRow {
  return {
    eventId: row.event_id,
    streamOrdering: row.stream_ordering,
    json: row.json,
    outlier: row.outlier,
    rejectedReason: row.rejected_reason,
    softFailed: row.soft_failed,
    redactedBy: row.redacted_by,
    receivedTs: row.received_ts,
  };
}

/** Which of a room's events to read; both bounds on `origin_server_ts`, optional. */
export interface ExportEventFilter {
  readonly roomId: string;
  /** Inclusive lower bound of `origin_server_ts`. */
  readonly sinceTs?: number;
  /** Exclusive upper bound of `origin_server_ts`. */
  readonly untilTs?: number;
}

/** Where the next page of outliers starts: after this (received_ts, event_id). */
export interface OutlierCursor {
  readonly receivedTs: number;
  readonly eventId: string;
}

export class ExportQueries {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async roomVersion(roomId: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom('rooms').select('room_version').where('room_id', '=', roomId).executeTakeFirst();
    if (row !== undefined) return row.room_version;
    // A room known only from events (joined over federation before a rooms row existed).
    const event = await this.#db
      .selectFrom('events')
      .select('room_version')
      .where('room_id', '=', roomId)
      .limit(1)
      .executeTakeFirst();
    return event?.room_version;
  }

  /** The highest stream ordering of the room now: an export reads up to it and no further. */
  async maxStreamOrdering(roomId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('events')
      .select((eb) => eb.fn.max('stream_ordering').as('max'))
      .where('room_id', '=', roomId)
      .executeTakeFirst();
    return row?.max ?? 0;
  }

  /** Timeline rows (stream ordering set) with ordering in (after, upTo], ascending; any status. */
  async timelinePage(filter: ExportEventFilter, after: number, upTo: number, limit: number): Promise<ExportEventRow[]> {
    if (limit <= 0 || upTo <= after) return [];
    let query = this.#db
      .selectFrom('events')
      .select(EXPORT_COLUMNS)
      .where('room_id', '=', filter.roomId)
      .where('stream_ordering', '>', after)
      .where('stream_ordering', '<=', upTo);
    if (filter.sinceTs !== undefined) query = query.where('origin_server_ts', '>=', filter.sinceTs);
    if (filter.untilTs !== undefined) query = query.where('origin_server_ts', '<', filter.untilTs);
    const rows = await query.orderBy('stream_ordering').limit(limit).execute();
    return rows.map(exportRowOf);
  }

  /**
   * Outliers (no stream ordering: auth and state events fetched over federation, rejected
   * events stored without a place in the timeline) after `cursor`, by (received_ts, event_id).
   */
  async outlierPage(filter: ExportEventFilter, cursor: OutlierCursor | undefined, limit: number): Promise<ExportEventRow[]> {
    if (limit <= 0) return [];
    let query = this.#db
      .selectFrom('events')
      .select(EXPORT_COLUMNS)
      .where('room_id', '=', filter.roomId)
      .where('stream_ordering', 'is', null);
    if (filter.sinceTs !== undefined) query = query.where('origin_server_ts', '>=', filter.sinceTs);
    if (filter.untilTs !== undefined) query = query.where('origin_server_ts', '<', filter.untilTs);
    if (cursor !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('received_ts', '>', cursor.receivedTs),
          eb.and([eb('received_ts', '=', cursor.receivedTs), eb('event_id', '>', cursor.eventId)]),
        ]),
      );
    }
    const rows = await query.orderBy('received_ts').orderBy('event_id').limit(limit).execute();
    return rows.map(exportRowOf);
  }

  /** The rows of `eventIds` (any room, any status), in no particular order. */
  async byIds(eventIds: readonly string[]): Promise<ExportEventRow[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('events')
      .select(EXPORT_COLUMNS)
      .where('event_id', 'in', [...new Set(eventIds)])
      .execute();
    return rows.map(exportRowOf);
  }

  /** Rooms in which `userId` has a membership (any: join, leave, invite, ban, knock) — a custodian's rooms. */
  async roomsWithMember(userId: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('current_state')
      .select('room_id')
      .where('type', '=', 'm.room.member')
      .where('state_key', '=', userId)
      .orderBy('room_id')
      .execute();
    return rows.map((r) => r.room_id);
  }

  async isAdmin(userId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('users').select('is_admin').where('user_id', '=', userId).executeTakeFirst();
    return row?.is_admin === true;
  }
}

