// Users' last presence (client-server API § "Presence"), persisted so a restart keeps what
// users last set; each write stamped with a position of `presence_stream_seq`.

import { sql, type Kysely } from 'kysely';
import { STREAM_SEQUENCES, type Database } from '../../schema/database.ts';

export interface StoredPresence {
  readonly userId: string;
  readonly state: string;
  readonly statusMsg: string | null;
  readonly lastActiveTs: number;
  readonly currentlyActive: boolean;
  readonly streamId: number;
}

export class PresenceRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(userId: string): Promise<StoredPresence | undefined> {
    const row = await this.#db.selectFrom('presence').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Stores a user's presence and returns its new stream position. */
  async upsert(presence: Omit<StoredPresence, 'streamId'>): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ position: number }>`select nextval(${STREAM_SEQUENCES.presence}) as position`.execute(trx);
      const streamId = rows[0]?.position;
      if (streamId === undefined) throw new Error('nextval returned no row');
      const values = {
        state: presence.state,
        status_msg: presence.statusMsg,
        last_active_ts: presence.lastActiveTs,
        currently_active: presence.currentlyActive,
        stream_id: streamId,
      };
      await trx
        .insertInto('presence')
        .values({ user_id: presence.userId, ...values })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
        .execute();
      return streamId;
    });
  }

  /** Presence of `userIds` written after `after` up to `upTo` (inclusive), oldest first. */
  async changed(userIds: readonly string[], after: number, upTo: number): Promise<StoredPresence[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('presence')
      .selectAll()
      .where('user_id', 'in', userIds)
      .where('stream_id', '>', after)
      .where('stream_id', '<=', upTo)
      .orderBy('stream_id')
      .execute();
    return rows.map(fromRow);
  }

  /** Users not offline, to resume idle and offline timeouts after a restart. */
  async notOffline(): Promise<StoredPresence[]> {
    const rows = await this.#db.selectFrom('presence').selectAll().where('state', '!=', 'offline').execute();
    return rows.map(fromRow);
  }

  async maxStreamId(): Promise<number> {
    const row = await this.#db
      .selectFrom('presence')
      .select((eb) => eb.fn.max('stream_id').as('max'))
      .executeTakeFirst();
    return row?.max ?? 0;
  }
}

function fromRow(row: {
  user_id: string;
  state: string;
  status_msg: string | null;
  last_active_ts: number;
  currently_active: boolean;
  stream_id: number;
}): StoredPresence {
  return {
    userId: row.user_id,
    state: row.state,
    statusMsg: row.status_msg,
    lastActiveTs: row.last_active_ts,
    currentlyActive: row.currently_active,
    streamId: row.stream_id,
  };
}
