// Read receipts (client-server API § "Receipts"): the latest receipt per (room, receipt
// type, user, thread), each write stamped with a position of `receipts_stream_seq`.

import { sql, type Kysely } from 'kysely';
import { STREAM_SEQUENCES, type Database } from '../../schema/database.ts';

export interface StoredReceipt {
  readonly roomId: string;
  readonly receiptType: string;
  readonly userId: string;
  /** `''` for an unthreaded receipt. */
  readonly threadId: string;
  readonly eventId: string;
  readonly ts: number;
  readonly streamId: number;
}

export class ReceiptsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(roomId: string, receiptType: string, userId: string, threadId: string): Promise<StoredReceipt | undefined> {
    const row = await this.#db
      .selectFrom('receipts')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('receipt_type', '=', receiptType)
      .where('user_id', '=', userId)
      .where('thread_id', '=', threadId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Replaces the receipt of (room, type, user, thread) and returns its new stream position. */
  async upsert(receipt: Omit<StoredReceipt, 'streamId'>): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ position: number }>`select nextval(${STREAM_SEQUENCES.receipts}) as position`.execute(trx);
      const streamId = rows[0]?.position;
      if (streamId === undefined) throw new Error('nextval returned no row');
      await trx
        .insertInto('receipts')
        .values({
          room_id: receipt.roomId,
          receipt_type: receipt.receiptType,
          user_id: receipt.userId,
          thread_id: receipt.threadId,
          event_id: receipt.eventId,
          ts: receipt.ts,
          stream_id: streamId,
        })
        .onConflict((oc) =>
          oc.columns(['room_id', 'receipt_type', 'user_id', 'thread_id']).doUpdateSet({
            event_id: receipt.eventId,
            ts: receipt.ts,
            stream_id: streamId,
          }),
        )
        .execute();
      return streamId;
    });
  }

  /** Receipts in `roomIds` written after `after` up to `upTo` (inclusive), oldest first. */
  async inRooms(roomIds: readonly string[], after: number, upTo: number): Promise<StoredReceipt[]> {
    if (roomIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('receipts')
      .selectAll()
      .where('room_id', 'in', roomIds)
      .where('stream_id', '>', after)
      .where('stream_id', '<=', upTo)
      .orderBy('stream_id')
      .execute();
    return rows.map(fromRow);
  }

  async maxStreamId(): Promise<number> {
    const row = await this.#db
      .selectFrom('receipts')
      .select((eb) => eb.fn.max('stream_id').as('max'))
      .executeTakeFirst();
    return row?.max ?? 0;
  }
}

function fromRow(row: {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  ts: number;
  stream_id: number;
}): StoredReceipt {
  return {
    roomId: row.room_id,
    receiptType: row.receipt_type,
    userId: row.user_id,
    threadId: row.thread_id,
    eventId: row.event_id,
    ts: row.ts,
    streamId: row.stream_id,
  };
}
