// To-device messages (client-server § "Send-to-Device messaging" › "Server behaviour"):
// queued per recipient device with a position of `e2e_to_device_stream_seq`, kept until the
// device syncs with a token past them, and the /sendToDevice transaction IDs seen per device.

import { sql, type Kysely } from 'kysely';
import { STREAM_SEQUENCES, type Database } from '../../schema/database.ts';

export interface NewToDeviceMessage {
  readonly userId: string;
  readonly deviceId: string;
  readonly sender: string;
  readonly type: string;
  /** The content object as JSON text. */
  readonly content: string;
}

export interface StoredToDeviceMessage {
  readonly streamId: number;
  readonly sender: string;
  readonly type: string;
  readonly content: string;
}

export interface ToDeviceTransaction {
  readonly userId: string;
  readonly deviceId: string;
  readonly txnId: string;
}

export class E2eeToDeviceRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Queues messages, and records `txn` in the same transaction. Returns the highest position
   * written, or undefined when `txn` was seen before (nothing is queued again).
   */
  async enqueue(messages: readonly NewToDeviceMessage[], now: number, txn?: ToDeviceTransaction): Promise<number | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      if (txn !== undefined) {
        const inserted = await trx
          .insertInto('e2e_to_device_txns')
          .values({ user_id: txn.userId, device_id: txn.deviceId, txn_id: txn.txnId, created_ts: now })
          .onConflict((oc) => oc.columns(['user_id', 'device_id', 'txn_id']).doNothing())
          .returning('txn_id')
          .executeTakeFirst();
        if (inserted === undefined) return undefined;
      }
      let last = 0;
      for (const message of messages) {
        const { rows } = await sql<{ position: number }>`select nextval(${STREAM_SEQUENCES.e2e_to_device}) as position`.execute(trx);
        const position = rows[0]?.position;
        if (position === undefined) throw new Error('nextval returned no row');
        await trx
          .insertInto('e2e_to_device')
          .values({
            stream_id: position,
            user_id: message.userId,
            device_id: message.deviceId,
            sender: message.sender,
            type: message.type,
            content: message.content,
            created_ts: now,
          })
          .execute();
        last = position;
      }
      return last;
    });
  }

  /** The device's messages with positions in (after, upTo], oldest first, at most `limit`. */
  async pending(userId: string, deviceId: string, after: number, upTo: number, limit: number): Promise<StoredToDeviceMessage[]> {
    if (upTo <= after || limit <= 0) return [];
    const rows = await this.#db
      .selectFrom('e2e_to_device')
      .select(['stream_id', 'sender', 'type', 'content'])
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('stream_id', '>', after)
      .where('stream_id', '<=', upTo)
      .orderBy('stream_id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ streamId: r.stream_id, sender: r.sender, type: r.type, content: r.content }));
  }

  /** Deletes the device's messages at or below `upTo` (the client acknowledged them). */
  async deleteUpTo(userId: string, deviceId: string, upTo: number): Promise<void> {
    await this.#db
      .deleteFrom('e2e_to_device')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('stream_id', '<=', upTo)
      .execute();
  }

  /** Everything queued for, and the transaction IDs of, a device that is gone. */
  async deleteDevice(userId: string, deviceId: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('e2e_to_device').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
      await trx.deleteFrom('e2e_to_device_txns').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
    });
  }

  async maxStreamId(): Promise<number> {
    const { rows } = await sql<{ last_value: number; is_called: boolean }>`
      select last_value, is_called from ${sql.table(STREAM_SEQUENCES.e2e_to_device)}`.execute(this.#db);
    const row = rows[0];
    return row === undefined || !row.is_called ? 0 : Number(row.last_value);
  }
}
