// Account data (client-server API § "Client Config"): per-user JSON objects, global (room
// `''`) or per room, each write stamped with a position of `account_data_stream_seq`.

import { sql, type Kysely } from 'kysely';
import { STREAM_SEQUENCES, type Database } from '../../schema/database.ts';

/** `''` marks global account data in the `room_id` column. */
export const GLOBAL_ACCOUNT_DATA_ROOM = '';

export interface StoredAccountData {
  /** `''` for global account data. */
  readonly roomId: string;
  readonly type: string;
  /** The content as JSON text, exactly as stored. */
  readonly content: string;
  readonly streamId: number;
}

export class AccountDataRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(userId: string, roomId: string, type: string): Promise<StoredAccountData | undefined> {
    const row = await this.#db
      .selectFrom('account_data')
      .select(['room_id', 'type', 'content', 'stream_id'])
      .where('user_id', '=', userId)
      .where('room_id', '=', roomId)
      .where('type', '=', type)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Stores one account data object and returns its new stream position. */
  async upsert(userId: string, roomId: string, type: string, content: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ position: number }>`select nextval(${STREAM_SEQUENCES.account_data}) as position`.execute(trx);
      const streamId = rows[0]?.position;
      if (streamId === undefined) throw new Error('nextval returned no row');
      await trx
        .insertInto('account_data')
        .values({ user_id: userId, room_id: roomId, type, content, stream_id: streamId })
        .onConflict((oc) => oc.columns(['user_id', 'room_id', 'type']).doUpdateSet({ content, stream_id: streamId }))
        .execute();
      return streamId;
    });
  }

  /** A user's account data written after `after` up to `upTo` (inclusive); after = 0 for all. */
  async changedForUser(userId: string, after: number, upTo: number): Promise<StoredAccountData[]> {
    const rows = await this.#db
      .selectFrom('account_data')
      .select(['room_id', 'type', 'content', 'stream_id'])
      .where('user_id', '=', userId)
      .where('stream_id', '>', after)
      .where('stream_id', '<=', upTo)
      .orderBy('stream_id')
      .execute();
    return rows.map(fromRow);
  }

  async maxStreamId(): Promise<number> {
    const row = await this.#db
      .selectFrom('account_data')
      .select((eb) => eb.fn.max('stream_id').as('max'))
      .executeTakeFirst();
    return row?.max ?? 0;
  }
}

function fromRow(row: { room_id: string; type: string; content: string; stream_id: number }): StoredAccountData {
  return { roomId: row.room_id, type: row.type, content: row.content, streamId: row.stream_id };
}
