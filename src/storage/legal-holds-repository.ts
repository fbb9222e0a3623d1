// Legal holds (issue 8 item 4; migration 0020): a hold on a room or on a user's events.
// A hold is active until released; released holds are kept as a record.

import type { Kysely, Selectable } from 'kysely';
import type { Database, LegalHoldsTable } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export type LegalHoldScope = 'room' | 'user';

export interface LegalHold {
  readonly holdId: string;
  readonly scope: LegalHoldScope;
  readonly target: string;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdTs: number;
  readonly releasedBy: string | null;
  readonly releasedTs: number | null;
}

/** The rooms and users under an active hold. */
export interface ActiveHolds {
  readonly rooms: ReadonlySet<string>;
  readonly users: ReadonlySet<string>;
}

export class LegalHoldsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async insert(hold: Omit<LegalHold, 'releasedBy' | 'releasedTs'>): Promise<void> {
    await this.#db
      .insertInto('legal_holds')
      .values({
        hold_id: hold.holdId,
        scope: hold.scope,
        target: hold.target,
        reason: hold.reason,
        created_by: hold.createdBy,
        created_ts: hold.createdTs,
      })
      .execute();
  }

  async find(holdId: string): Promise<LegalHold | undefined> {
    const row = await this.#db.selectFrom('legal_holds').selectAll().where('hold_id', '=', holdId).executeTakeFirst();
    return row === undefined ? undefined : toHold(row);
  }

  /** Holds by creation time, newest first; only active ones unless `includeReleased`. */
  async list(options: { includeReleased: boolean; scope?: LegalHoldScope; target?: string }): Promise<LegalHold[]> {
    let query = this.#db.selectFrom('legal_holds').selectAll();
    if (!options.includeReleased) query = query.where('released_ts', 'is', null);
    if (options.scope !== undefined) query = query.where('scope', '=', options.scope);
    if (options.target !== undefined) query = query.where('target', '=', options.target);
    const rows = await query.orderBy('created_ts', 'desc').orderBy('hold_id').execute();
    return rows.map(toHold);
  }

  /** Releases an active hold; false when it was already released (or does not exist). */
  async release(holdId: string, by: string, ts: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('legal_holds')
      .set({ released_by: by, released_ts: ts })
      .where('hold_id', '=', holdId)
      .where('released_ts', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async active(): Promise<ActiveHolds> {
    const rows = await this.#db.selectFrom('legal_holds').select(['scope', 'target']).where('released_ts', 'is', null).execute();
    const rooms = new Set<string>();
    const users = new Set<string>();
    for (const row of rows) (row.scope === 'room' ? rooms : users).add(row.target);
    return { rooms, users };
  }

  /** Whether an event of `sender` in `roomId` is under an active hold. */
  async isHeld(roomId: string, sender: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('legal_holds')
      .select('hold_id')
      .where('released_ts', 'is', null)
      .where((eb) => eb.or([eb.and([eb('scope', '=', 'room'), eb('target', '=', roomId)]), eb.and([eb('scope', '=', 'user'), eb('target', '=', sender)])]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}

function toHold(row: Selectable<LegalHoldsTable>): LegalHold {
  return {
    holdId: row.hold_id,
    scope: row.scope,
    target: row.target,
    reason: row.reason,
    createdBy: row.created_by,
    createdTs: Number(row.created_ts),
    releasedBy: row.released_by,
    releasedTs: row.released_ts === null ? null : Number(row.released_ts),
  };
}
