// The roomserver's view of storage: the events, state and rooms repositories over one
// connection or transaction, and the per-room write transaction. Writers of one room take
// turns through a transaction-scoped PostgreSQL advisory lock keyed by the room ID, so
// several Stoa processes sharing a database never interleave writes to one room
// (DESIGN.md "Scale"); PGlite is one process with one connection, and takes it too.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';
import { EventsRepository } from './events-repository.ts';
import { FederationOutboxRepository } from './federation-outbox-repository.ts';
import { RoomsRepository } from './rooms-repository.ts';
import { StateRepository } from './state-repository.ts';

/**
 * The first key of the two-key advisory lock: a namespace, so room locks cannot collide
 * with other advisory locks (kysely's migration lock uses the one-key form).
 */
export const ROOM_WRITE_LOCK_NAMESPACE = 0x5354_4f41; // "STOA"

export class RoomStore {
  readonly events: EventsRepository;
  readonly state: StateRepository;
  readonly rooms: RoomsRepository;
  /** Events written here are queued for federation in their own transaction. */
  readonly outbox: FederationOutboxRepository;
  readonly #db: Kysely<Database>;
  readonly #inTransaction: boolean;
  readonly #postgres: boolean;

  constructor(db: StoaDatabase | Kysely<Database>, inTransaction = false) {
    this.#db = 'kysely' in db ? db.kysely : db;
    this.#inTransaction = inTransaction;
    this.#postgres = 'kysely' in db && db.engine === 'postgres';
    this.events = new EventsRepository(this.#db);
    this.state = new StateRepository(this.#db);
    this.rooms = new RoomsRepository(this.#db);
    this.outbox = new FederationOutboxRepository(this.#db);
  }

  /**
   * Runs `fn` in one transaction holding the room's write lock. Everything `fn` writes
   * through the store it receives commits together or not at all. `fn` must read through
   * that store too: on PGlite the transaction holds the only connection.
   */
  async writeTransaction<T>(roomId: string, fn: (store: RoomStore) => Promise<T>): Promise<T> {
    if (this.#inTransaction) throw new Error('RoomStore.writeTransaction cannot nest');
    if (this.#postgres) return this.#writeTransactionPostgres(roomId, fn);
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${ROOM_WRITE_LOCK_NAMESPACE}::int4, hashtext(${roomId}))`.execute(trx);
      return fn(new RoomStore(trx, true));
    });
  }

  /**
   * The same on a PostgreSQL server, where every statement is a network round trip: BEGIN
   * and the lock go in one simple-protocol message (two statements, so the lock's reads
   * after it still see every write committed before the lock was granted). Hence the
   * literal room ID, quoted by kysely's literal escaping.
   */
  async #writeTransactionPostgres<T>(roomId: string, fn: (store: RoomStore) => Promise<T>): Promise<T> {
    return this.#db.connection().execute(async (conn) => {
      try {
        await sql`begin; select pg_advisory_xact_lock(${sql.lit(ROOM_WRITE_LOCK_NAMESPACE)}::int4, hashtext(${sql.lit(roomId)}))`.execute(conn);
        const result = await fn(new RoomStore(conn, true));
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        // Never hand the connection back inside a transaction (a no-op when none is open).
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }
}
