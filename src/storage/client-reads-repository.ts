// Reads behind the client API's room reads (/messages, /context, /event, /state, /members)
// and /sync: chosen entries of many state snapshots at once, the event at a stream position,
// and the client transaction IDs of events. Read-only; SQL only, no protocol.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface StateKeyPair {
  readonly type: string;
  readonly stateKey: string;
}

/** One (type, state key) entry of a snapshot, resolved through the snapshot's delta chain. */
export interface SnapshotEntry {
  readonly snapshotId: number;
  readonly type: string;
  readonly stateKey: string;
  readonly eventId: string;
}

/** How many (type, state key) pairs one query names at most; more are split into batches. */
const MAX_KEYS_PER_QUERY = 200;

export class ClientReadsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  /**
   * The entries of `keys` in each of `snapshotIds` (each snapshot read through its delta
   * chain: the nearest snapshot that names a key decides it, a null entry removes it).
   * Keys a snapshot does not hold are absent from the result.
   */
  async snapshotEntries(snapshotIds: readonly number[], keys: readonly StateKeyPair[]): Promise<SnapshotEntry[]> {
    const ids = [...new Set(snapshotIds)];
    const pairs = uniquePairs(keys);
    if (ids.length === 0 || pairs.length === 0) return [];
    const out: SnapshotEntry[] = [];
    for (let i = 0; i < pairs.length; i += MAX_KEYS_PER_QUERY) {
      const slice = pairs.slice(i, i + MAX_KEYS_PER_QUERY);
      const { rows } = await sql<{ root: number; type: string; state_key: string; event_id: string | null }>`
        with recursive chain(root, id, parent_id, hop) as (
          select id, id, parent_id, 0 from state_snapshots where id in (${sql.join(ids)})
          union all
          select c.root, s.id, s.parent_id, c.hop + 1 from state_snapshots s join chain c on s.id = c.parent_id
        )
        select distinct on (c.root, e.type, e.state_key) c.root, e.type, e.state_key, e.event_id
        from chain c join state_snapshot_entries e on e.snapshot_id = c.id
        where (e.type, e.state_key) in (${sql.join(slice.map((p) => sql`(${p.type}, ${p.stateKey})`))})
        order by c.root, e.type, e.state_key, c.hop`.execute(this.#db);
      for (const row of rows) {
        if (row.event_id !== null) {
          out.push({ snapshotId: Number(row.root), type: row.type, stateKey: row.state_key, eventId: row.event_id });
        }
      }
    }
    return out;
  }

  /** The snapshot of the state before each of `eventIds` (null while uncalculated); unknown IDs are absent. */
  async stateBeforeSnapshots(eventIds: readonly string[]): Promise<Map<string, number | null>> {
    const ids = [...new Set(eventIds)];
    if (ids.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('events')
      .select(['event_id', 'state_before_snapshot_id'])
      .where('event_id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.event_id, r.state_before_snapshot_id]));
  }

  /**
   * The room's timeline event (not an outlier, not rejected, not soft-failed) with the
   * highest stream ordering at or below `position`: the point "the room at this token" is.
   */
  async lastTimelineEventAtOrBefore(roomId: string, position: number): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('events')
      .select('event_id')
      .where('room_id', '=', roomId)
      .where('stream_ordering', '<=', position)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('stream_ordering', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.event_id;
  }

  /**
   * The client transaction IDs `userId`'s `deviceId` sent `eventIds` of `roomId` with (event
   * ID → txn ID). The room narrows the scan to the primary key's prefix.
   */
  async transactionIds(
    roomId: string,
    userId: string,
    deviceId: string,
    eventIds: readonly string[],
  ): Promise<Map<string, string>> {
    const ids = [...new Set(eventIds)];
    if (ids.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('event_transactions')
      .select(['event_id', 'txn_id'])
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('event_id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.event_id, r.txn_id]));
  }
}

function uniquePairs(keys: readonly StateKeyPair[]): StateKeyPair[] {
  const seen = new Map<string, StateKeyPair>();
  for (const key of keys) seen.set(`${key.type}\u0000${key.stateKey}`, key);
  return [...seen.values()];
}
