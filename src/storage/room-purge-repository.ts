// Removing a room from the database (Synapse's Delete Room API with `purge: true`,
// docs/admin_api/rooms.md: "remove all traces of the room from your database"), in one
// transaction: the room's events and everything derived from or pointing at them (DAG
// edges, state snapshots, current state, extremities, relations, search text, receipts,
// notifications, queued federation and push deliveries), its aliases and directory entry,
// and the room's account data and tags. Synapse's `_purge_room_txn` is the reference for
// what goes; like Synapse, blocks and content reports stay (a purged room must not be
// rejoined by accident, and reports are abuse records), and so do room deletions, legal
// holds and the audit log, which are Stoa's record of what happened.
//
// A legal hold wins (issue 8 item 4): the same rule as retention and redaction pruning
// (./retention-repository.ts), an active hold on the room or on the sender of any of its
// events. The check is repeated inside the purge under a share lock on `legal_holds`, so
// a hold created while the purge runs waits for it, and a hold that committed before wins.

import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';
import { ROOM_WRITE_LOCK_NAMESPACE } from './room-store.ts';

/** Rows removed, by table (the purge's record for the audit log). */
export type PurgedRows = Readonly<Record<PurgedTable, number>>;

export type PurgedTable =
  | 'events'
  | 'event_edges'
  | 'event_auth'
  | 'event_transactions'
  | 'event_relations'
  | 'event_search'
  | 'purged_events'
  | 'state_snapshots'
  | 'current_state'
  | 'forward_extremities'
  | 'receipts'
  | 'user_notifications'
  | 'push_outbox'
  | 'federation_outbox'
  | 'room_aliases'
  | 'account_data'
  | 'forgotten_rooms'
  | 'e2e_backup_keys'
  | 'server_notice_rooms'
  | 'webhooks'
  | 'rooms';

export interface RoomPurgeResult {
  readonly rows: PurgedRows;
  /** The room's local aliases, now removed. */
  readonly aliases: readonly string[];
  /** Whether the room was in the public room directory. */
  readonly wasPublic: boolean;
  /** The range of the purged events' stream positions and `origin_server_ts`; null when none. */
  readonly streamRange: readonly [number, number] | null;
  readonly tsRange: readonly [number, number] | null;
}

/** The purge was refused: these active legal holds cover the room or some of its events. */
export class RoomUnderLegalHoldError extends Error {
  override readonly name = 'RoomUnderLegalHoldError';
  readonly holdIds: readonly string[];
  constructor(roomId: string, holdIds: readonly string[]) {
    super(`${roomId} is under legal hold (${holdIds.join(', ')})`);
    this.holdIds = holdIds;
  }
}

export class RoomPurgeRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /** IDs of the active holds on the room or on a sender of its events, oldest first. */
  holdsCovering(roomId: string): Promise<string[]> {
    return holdsCovering(this.#db, roomId);
  }

  /**
   * Removes the room. Serialised with the room's writers (their advisory lock) so no event
   * is half-written into a room being removed. Throws RoomUnderLegalHoldError, leaving
   * everything as it was, when a hold covers the room.
   */
  async purge(roomId: string): Promise<RoomPurgeResult> {
    return this.#db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${ROOM_WRITE_LOCK_NAMESPACE}::int4, hashtext(${roomId}))`.execute(tx);
      // Share mode lets readers and the retention job through but makes a hold being
      // created wait for this transaction (and this one wait for a hold being created).
      await sql`lock table legal_holds in share mode`.execute(tx);
      const holds = await holdsCovering(tx, roomId);
      if (holds.length > 0) throw new RoomUnderLegalHoldError(roomId, holds);

      const span = await tx
        .selectFrom('events')
        .select((eb) => [
          eb.fn.min('stream_ordering').as('min_stream'),
          eb.fn.max('stream_ordering').as('max_stream'),
          eb.fn.min('origin_server_ts').as('min_ts'),
          eb.fn.max('origin_server_ts').as('max_ts'),
        ])
        .where('room_id', '=', roomId)
        .executeTakeFirst();
      const room = await tx.selectFrom('rooms').select('is_public').where('room_id', '=', roomId).executeTakeFirst();

      const roomEvents = tx.selectFrom('events').select('events.event_id').where('events.room_id', '=', roomId);
      const rows: Partial<Record<PurgedTable, number>> = {};
      const count = (table: PurgedTable, result: { numDeletedRows: bigint } | undefined): void => {
        rows[table] = (rows[table] ?? 0) + Number(result?.numDeletedRows ?? 0n);
      };
      // Tables keyed by event first; `events` then has nothing pointing at it.
      count('event_edges', await tx.deleteFrom('event_edges').where('event_id', 'in', roomEvents).executeTakeFirst());
      count('event_auth', await tx.deleteFrom('event_auth').where('event_id', 'in', roomEvents).executeTakeFirst());
      count('federation_outbox', await tx.deleteFrom('federation_outbox').where('event_id', 'in', roomEvents).executeTakeFirst());
      count('event_transactions', await tx.deleteFrom('event_transactions').where('room_id', '=', roomId).executeTakeFirst());
      count('event_relations', await tx.deleteFrom('event_relations').where('room_id', '=', roomId).executeTakeFirst());
      count('event_search', await tx.deleteFrom('event_search').where('room_id', '=', roomId).executeTakeFirst());
      count('purged_events', await tx.deleteFrom('purged_events').where('room_id', '=', roomId).executeTakeFirst());
      count('receipts', await tx.deleteFrom('receipts').where('room_id', '=', roomId).executeTakeFirst());
      count('user_notifications', await tx.deleteFrom('user_notifications').where('room_id', '=', roomId).executeTakeFirst());
      count('push_outbox', await tx.deleteFrom('push_outbox').where('room_id', '=', roomId).executeTakeFirst());
      count('current_state', await tx.deleteFrom('current_state').where('room_id', '=', roomId).executeTakeFirst());
      count('forward_extremities', await tx.deleteFrom('forward_extremities').where('room_id', '=', roomId).executeTakeFirst());
      count('events', await tx.deleteFrom('events').where('room_id', '=', roomId).executeTakeFirst());
      // After the events, which point at snapshots; one statement, so parents inside the
      // room go with their children (entries cascade).
      count('state_snapshots', await tx.deleteFrom('state_snapshots').where('room_id', '=', roomId).executeTakeFirst());
      const aliases = await tx.deleteFrom('room_aliases').where('room_id', '=', roomId).returning('room_alias').execute();
      count('room_aliases', { numDeletedRows: BigInt(aliases.length) });
      // Room account data, tags (`m.tag`) included; global account data has room_id ''.
      count('account_data', await tx.deleteFrom('account_data').where('room_id', '=', roomId).executeTakeFirst());
      count('forgotten_rooms', await tx.deleteFrom('forgotten_rooms').where('room_id', '=', roomId).executeTakeFirst());
      count('e2e_backup_keys', await tx.deleteFrom('e2e_backup_keys').where('room_id', '=', roomId).executeTakeFirst());
      count('server_notice_rooms', await tx.deleteFrom('server_notice_rooms').where('room_id', '=', roomId).executeTakeFirst());
      count('webhooks', await tx.deleteFrom('webhooks').where('room_id', '=', roomId).executeTakeFirst());
      // The directory entry is the row's `is_public`.
      count('rooms', await tx.deleteFrom('rooms').where('room_id', '=', roomId).executeTakeFirst());

      const minStream = span?.min_stream ?? null;
      const maxStream = span?.max_stream ?? null;
      const minTs = span?.min_ts ?? null;
      const maxTs = span?.max_ts ?? null;
      return {
        rows: rows as PurgedRows,
        aliases: aliases.map((a) => a.room_alias).sort(),
        wasPublic: room?.is_public ?? false,
        streamRange: minStream === null || maxStream === null ? null : [Number(minStream), Number(maxStream)],
        tsRange: minTs === null || maxTs === null ? null : [Number(minTs), Number(maxTs)],
      };
    });
  }
}

async function holdsCovering(db: Kysely<Database> | Transaction<Database>, roomId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('legal_holds')
    .select('hold_id')
    .where('released_ts', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('scope', '=', 'room'), eb('target', '=', roomId)]),
        eb.and([
          eb('scope', '=', 'user'),
          eb.exists(
            eb
              .selectFrom('events')
              .select('events.event_id')
              .where('events.room_id', '=', roomId)
              .where('events.sender', '=', eb.ref('legal_holds.target')),
          ),
        ]),
      ]),
    )
    .orderBy('created_ts')
    .orderBy('hold_id')
    .execute();
  return rows.map((r) => r.hold_id);
}
