// The roomserver's view of storage: the events, state and rooms repositories over one
// connection or transaction, and the per-room write transaction. Writers of one room take
// turns through a transaction-scoped PostgreSQL advisory lock keyed by the room ID, so
// several Stoa processes sharing a database never interleave writes to one room
// (DESIGN.md "Scale"); PGlite is one process with one connection, and takes it too.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';
import { EventsRepository } from './events-repository.ts';
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
  readonly #db: Kysely<Database>;
  readonly #inTransaction: boolean;

  constructor(db: StoaDatabase | Kysely<Database>, inTransaction = false) {
    this.#db = 'kysely' in db ? db.kysely : db;
    this.#inTransaction = inTransaction;
    this.events = new EventsRepository(this.#db);
    this.state = new StateRepository(this.#db);
    this.rooms = new RoomsRepository(this.#db);
  }

  /**
   * Runs `fn` in one transaction holding the room's write lock. Everything `fn` writes
   * through the store it receives commits together or not at all. `fn` must read through
   * that store too: on PGlite the transaction holds the only connection.
   */
  async writeTransaction<T>(roomId: string, fn: (store: RoomStore) => Promise<T>): Promise<T> {
    if (this.#inTransaction) throw new Error('RoomStore.writeTransaction cannot nest');
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${ROOM_WRITE_LOCK_NAMESPACE}::int4, hashtext(${roomId}))`.execute(trx);
      return fn(new RoomStore(trx, true));
    });
  }
}
