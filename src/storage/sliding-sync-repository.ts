// The read query simplified sliding sync (MSC4186) needs beyond /sync's: each room's
// "bump stamp", the stream position of its latest event of a type that counts as activity,
// so room lists sort by recency in one statement rather than one per room.
// Read-only; only accepted timeline events (not outliers, rejected or soft-failed) count.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export class SlidingSyncRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /** For each room among `roomIds`, the highest stream ordering ≤ `upTo` of an event whose type is in `types`. */
  async latestOfTypes(roomIds: readonly string[], types: readonly string[], upTo: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (roomIds.length === 0 || types.length === 0) return out;
    for (let i = 0; i < roomIds.length; i += 500) {
      const rows = await this.#db
        .selectFrom('events')
        .select(['room_id', (eb) => eb.fn.max('stream_ordering').as('latest')])
        .where('room_id', 'in', roomIds.slice(i, i + 500))
        .where('type', 'in', [...types])
        .where('stream_ordering', '<=', upTo)
        .where('rejected_reason', 'is', null)
        .where('soft_failed', '=', false)
        .groupBy('room_id')
        .execute();
      for (const row of rows) if (row.latest !== null) out.set(row.room_id, Number(row.latest));
    }
    return out;
  }

  /** For each room among `roomIds`, the highest stream ordering ≤ `upTo` of any accepted event. */
  async latestAny(roomIds: readonly string[], upTo: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < roomIds.length; i += 500) {
      const rows = await this.#db
        .selectFrom('events')
        .select(['room_id', (eb) => eb.fn.max('stream_ordering').as('latest')])
        .where('room_id', 'in', roomIds.slice(i, i + 500))
        .where('stream_ordering', '<=', upTo)
        .where('rejected_reason', 'is', null)
        .where('soft_failed', '=', false)
        .groupBy('room_id')
        .execute();
      for (const row of rows) if (row.latest !== null) out.set(row.room_id, Number(row.latest));
    }
    return out;
  }
}
