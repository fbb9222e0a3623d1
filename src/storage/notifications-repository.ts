// The events that notified each user (GET /notifications), and where each user has read up
// to per room (client-server § "Marking notifications as read": the later of their `m.read`
// and `m.read.private` receipts).

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredNotification {
  readonly userId: string;
  readonly eventId: string;
  readonly roomId: string;
  readonly streamOrdering: number;
  /** JSON array text. */
  readonly actions: string;
  readonly highlight: boolean;
  readonly ts: number;
}

const READ_RECEIPT_TYPES = ['m.read', 'm.read.private'];

export class NotificationsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertMany(rows: readonly StoredNotification[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#db
      .insertInto('user_notifications')
      .values(
        rows.map((r) => ({
          user_id: r.userId,
          event_id: r.eventId,
          room_id: r.roomId,
          stream_ordering: r.streamOrdering,
          actions: r.actions,
          highlight: r.highlight,
          ts: r.ts,
        })),
      )
      .onConflict((oc) => oc.columns(['user_id', 'event_id']).doNothing())
      .execute();
  }

  /** The user's notifications below `before` (a stream position), newest first. */
  async page(userId: string, options: { before?: number; limit: number; onlyHighlight: boolean }): Promise<StoredNotification[]> {
    let q = this.#db.selectFrom('user_notifications').selectAll().where('user_id', '=', userId);
    if (options.before !== undefined) q = q.where('stream_ordering', '<', options.before);
    if (options.onlyHighlight) q = q.where('highlight', '=', true);
    const rows = await q.orderBy('stream_ordering', 'desc').limit(options.limit).execute();
    return rows.map((r) => ({
      userId: r.user_id,
      eventId: r.event_id,
      roomId: r.room_id,
      streamOrdering: r.stream_ordering,
      actions: r.actions,
      highlight: r.highlight,
      ts: r.ts,
    }));
  }

  /** Per room, the stream position of the user's furthest read receipt. */
  async readPoints(userId: string, roomIds?: readonly string[]): Promise<Map<string, number>> {
    if (roomIds !== undefined && roomIds.length === 0) return new Map();
    let q = this.#db
      .selectFrom('receipts as r')
      .innerJoin('events as e', 'e.event_id', 'r.event_id')
      .where('r.user_id', '=', userId)
      .where('r.receipt_type', 'in', READ_RECEIPT_TYPES)
      .where('e.stream_ordering', 'is not', null)
      .select((eb) => ['r.room_id as room', eb.fn.max('e.stream_ordering').as('position')])
      .groupBy('r.room_id');
    if (roomIds !== undefined) q = q.where('r.room_id', 'in', [...roomIds]);
    const rows = await q.execute();
    return new Map(rows.map((r) => [r.room, Number(r.position)]));
  }

  /** Notifications of the user after their read point in each room (push `counts.unread`). */
  async unreadCount(userId: string): Promise<number> {
    const readPoints = await this.readPoints(userId);
    const rows = await this.#db
      .selectFrom('user_notifications')
      .select(['room_id', 'stream_ordering'])
      .where('user_id', '=', userId)
      .orderBy('stream_ordering', 'desc')
      .limit(10_000)
      .execute();
    return rows.filter((r) => r.stream_ordering > (readPoints.get(r.room_id) ?? 0)).length;
  }
}
