// The read queries /sync needs beyond the roomserver's narrow ones (client-server
// § "Syncing"): a user's membership changes across rooms between two stream positions,
// which rooms had events in a range, room heroes, and who shares a room with a user.
// Read-only; timeline events are the accepted ones (not outliers, rejected or soft-failed).

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface MembershipChangeRow {
  readonly roomId: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  /** `content.membership` of the event; undefined when absent or not a string. */
  readonly membership: string | undefined;
}

export interface TimelineRow {
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly type: string;
  readonly sender: string;
  readonly json: string;
  readonly redacted: boolean;
}

export class SyncRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /** The m.room.member events about `userId` with stream ordering in (after, upTo], oldest first. */
  async membershipChanges(userId: string, after: number, upTo: number): Promise<MembershipChangeRow[]> {
    if (upTo <= after) return [];
    const rows = await this.#db
      .selectFrom('events')
      .select(['room_id', 'event_id', 'stream_ordering', 'json'])
      .where('type', '=', 'm.room.member')
      .where('state_key', '=', userId)
      .where('stream_ordering', '>', after)
      .where('stream_ordering', '<=', upTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('stream_ordering')
      .execute();
    return rows.map((row) => ({
      roomId: row.room_id,
      eventId: row.event_id,
      streamOrdering: row.stream_ordering ?? 0,
      membership: membershipOf(row.json),
    }));
  }

  /** The rooms among `roomIds` with at least one timeline event in (after, upTo]. */
  async roomsWithEvents(roomIds: readonly string[], after: number, upTo: number): Promise<Set<string>> {
    if (roomIds.length === 0 || upTo <= after) return new Set();
    const rows = await this.#db
      .selectFrom('events')
      .select('room_id')
      .distinct()
      .where('room_id', 'in', [...roomIds])
      .where('stream_ordering', '>', after)
      .where('stream_ordering', '<=', upTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .execute();
    return new Set(rows.map((r) => r.room_id));
  }

  /**
   * The newest `limit` timeline events of a room in (after, upTo], newest first, with their
   * JSON: for unread counts, which look at content and stop at the user's own last event.
   */
  async recentEvents(roomId: string, after: number, upTo: number, limit: number): Promise<TimelineRow[]> {
    if (upTo <= after || limit <= 0) return [];
    const rows = await this.#db
      .selectFrom('events')
      .select(['event_id', 'stream_ordering', 'type', 'sender', 'json', 'redacted_by'])
      .where('room_id', '=', roomId)
      .where('stream_ordering', '>', after)
      .where('stream_ordering', '<=', upTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('stream_ordering', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      eventId: r.event_id,
      streamOrdering: r.stream_ordering ?? 0,
      type: r.type,
      sender: r.sender,
      json: r.json,
      redacted: r.redacted_by !== null,
    }));
  }

  /**
   * Room heroes (sync.yaml `m.heroes`): the first `limit` members with `memberships`, in the
   * stream order of their current membership events, `excludeUser` left out.
   */
  async heroes(roomId: string, memberships: readonly string[], excludeUser: string, limit: number): Promise<string[]> {
    if (memberships.length === 0) return [];
    const rows = await this.#db
      .selectFrom('current_state as c')
      .innerJoin('events as e', 'e.event_id', 'c.event_id')
      .select('c.state_key')
      .where('c.room_id', '=', roomId)
      .where('c.type', '=', 'm.room.member')
      .where('c.membership', 'in', [...memberships])
      .where('c.state_key', '<>', excludeUser)
      .orderBy('e.stream_ordering')
      .limit(limit)
      .execute();
    return rows.map((r) => r.state_key);
  }

  /** The client transaction IDs under which `userId`'s `deviceId` sent any of `eventIds`. */
  async transactionIds(roomId: string, userId: string, deviceId: string, eventIds: readonly string[]): Promise<Map<string, string>> {
    if (eventIds.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('event_transactions')
      .select(['event_id', 'txn_id'])
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('event_id', 'in', [...eventIds])
      .execute();
    return new Map(rows.map((r) => [r.event_id, r.txn_id]));
  }

  /** Members (`join`) of the rooms `userId` is joined to, `userId` included. */
  async usersSharingRooms(userId: string): Promise<Set<string>> {
    const { rows } = await sql<{ user_id: string }>`
      select distinct b.state_key as user_id
      from current_state a join current_state b on b.room_id = a.room_id
      where a.type = 'm.room.member' and a.state_key = ${userId} and a.membership = 'join'
        and b.type = 'm.room.member' and b.membership = 'join'`.execute(this.#db);
    const users = new Set(rows.map((r) => r.user_id));
    users.add(userId);
    return users;
  }
}

function membershipOf(json: string): string | undefined {
  try {
    const parsed = JSON.parse(json) as { content?: { membership?: unknown } };
    const membership = parsed.content?.membership;
    return typeof membership === 'string' ? membership : undefined;
  } catch {
    return undefined;
  }
}
