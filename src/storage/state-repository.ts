// Room state: snapshots stored as delta chains, and each room's current state
// (DESIGN.md "Data model"). A snapshot is its parent plus changed entries; a chain longer
// than MAX_STATE_DELTA_CHAIN is re-based into a full snapshot, so storage grows with state
// changes while a read stays one recursive query over a short chain.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

/** Deltas allowed between a snapshot and the full snapshot its chain starts from. */
export const MAX_STATE_DELTA_CHAIN = 32;

export interface StateEntry {
  readonly type: string;
  readonly stateKey: string;
  readonly eventId: string;
}

/** One changed entry of a snapshot against its parent; `eventId: null` removes the entry. */
export interface StateChange {
  readonly type: string;
  readonly stateKey: string;
  readonly eventId: string | null;
}

export interface SnapshotInfo {
  readonly id: number;
  readonly roomId: string;
  readonly parentId: number | null;
  readonly chainLength: number;
}

export interface NewSnapshot {
  readonly roomId: string;
  /** null: `changes` is the whole state. */
  readonly parentId: number | null;
  readonly changes: readonly StateChange[];
  readonly createdTs: number;
}

export interface CurrentStateEntry extends StateEntry {
  readonly membership: string | null;
}

/** A current-state change; `eventId: null` removes the entry. */
export interface CurrentStateChange extends StateChange {
  /** `content.membership` of an m.room.member event. */
  readonly membership: string | null;
}

export class StateRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Stores a snapshot and returns its ID: a delta against `parentId`, or, when that would
   * make the chain longer than MAX_STATE_DELTA_CHAIN, the full state (re-based).
   */
  async saveSnapshot(snapshot: NewSnapshot): Promise<number> {
    if (snapshot.parentId === null) {
      return this.#insert(snapshot.roomId, null, 0, snapshot.changes.filter(isPresent), snapshot.createdTs);
    }
    const parent = await this.snapshotInfo(snapshot.parentId);
    if (parent === undefined) throw new Error(`state snapshot ${snapshot.parentId} does not exist`);
    if (parent.chainLength + 1 <= MAX_STATE_DELTA_CHAIN) {
      return this.#insert(snapshot.roomId, parent.id, parent.chainLength + 1, snapshot.changes, snapshot.createdTs);
    }
    const full = new Map<string, StateChange>();
    for (const entry of await this.readSnapshot(parent.id)) full.set(pairKey(entry), entry);
    for (const change of snapshot.changes) full.set(pairKey(change), change);
    return this.#insert(snapshot.roomId, null, 0, [...full.values()].filter(isPresent), snapshot.createdTs);
  }

  async #insert(
    roomId: string,
    parentId: number | null,
    chainLength: number,
    entries: readonly StateChange[],
    createdTs: number,
  ): Promise<number> {
    const row = await this.#db
      .insertInto('state_snapshots')
      .values({ room_id: roomId, parent_id: parentId, chain_length: chainLength, created_ts: createdTs })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Large states are written in slices to stay far below the bind-parameter limit.
    for (let i = 0; i < entries.length; i += 1000) {
      await this.#db
        .insertInto('state_snapshot_entries')
        .values(
          entries.slice(i, i + 1000).map((e) => ({
            snapshot_id: row.id,
            type: e.type,
            state_key: e.stateKey,
            event_id: e.eventId,
          })),
        )
        .execute();
    }
    return row.id;
  }

  async snapshotInfo(id: number): Promise<SnapshotInfo | undefined> {
    const row = await this.#db
      .selectFrom('state_snapshots')
      .select(['id', 'room_id', 'parent_id', 'chain_length'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { id: row.id, roomId: row.room_id, parentId: row.parent_id, chainLength: row.chain_length };
  }

  /**
   * The state a snapshot stands for: walks the chain to its full snapshot in one recursive
   * query and keeps, per (type, state_key), the entry nearest the starting snapshot.
   */
  async readSnapshot(id: number): Promise<StateEntry[]> {
    const { rows } = await sql<{ type: string; state_key: string; event_id: string | null }>`
      with recursive chain(id, parent_id, hop) as (
        select id, parent_id, 0 from state_snapshots where id = ${id}
        union all
        select s.id, s.parent_id, c.hop + 1 from state_snapshots s join chain c on s.id = c.parent_id
      )
      select distinct on (e.type, e.state_key) e.type, e.state_key, e.event_id
      from chain c join state_snapshot_entries e on e.snapshot_id = c.id
      order by e.type, e.state_key, c.hop`.execute(this.#db);
    const entries: StateEntry[] = [];
    for (const row of rows) {
      if (row.event_id !== null) entries.push({ type: row.type, stateKey: row.state_key, eventId: row.event_id });
    }
    return entries;
  }

  async currentState(roomId: string): Promise<CurrentStateEntry[]> {
    const rows = await this.#db
      .selectFrom('current_state')
      .select(['type', 'state_key', 'event_id', 'membership'])
      .where('room_id', '=', roomId)
      .orderBy('type')
      .orderBy('state_key')
      .execute();
    return rows.map(toCurrentEntry);
  }

  async currentStateOfType(roomId: string, type: string): Promise<CurrentStateEntry[]> {
    const rows = await this.#db
      .selectFrom('current_state')
      .select(['type', 'state_key', 'event_id', 'membership'])
      .where('room_id', '=', roomId)
      .where('type', '=', type)
      .orderBy('state_key')
      .execute();
    return rows.map(toCurrentEntry);
  }

  async currentStateEntry(roomId: string, type: string, stateKey: string): Promise<CurrentStateEntry | undefined> {
    const row = await this.#db
      .selectFrom('current_state')
      .select(['type', 'state_key', 'event_id', 'membership'])
      .where('room_id', '=', roomId)
      .where('type', '=', type)
      .where('state_key', '=', stateKey)
      .executeTakeFirst();
    return row === undefined ? undefined : toCurrentEntry(row);
  }

  async applyCurrentStateChanges(roomId: string, changes: readonly CurrentStateChange[]): Promise<void> {
    // The last change of each (type, state key) wins; a multi-row upsert must not name a key twice.
    const byKey = new Map<string, CurrentStateChange>();
    for (const change of changes) byKey.set(`${change.type}\u0000${change.stateKey}`, change);
    const removed = [...byKey.values()].filter((c) => c.eventId === null);
    const upserts = [...byKey.values()].filter((c): c is CurrentStateChange & { eventId: string } => c.eventId !== null);
    // Few statements however many changes (a join seeds thousands of members at once).
    for (let i = 0; i < removed.length; i += 1000) {
      const chunk = removed.slice(i, i + 1000);
      await this.#db
        .deleteFrom('current_state')
        .where('room_id', '=', roomId)
        .where((eb) => eb.or(chunk.map((c) => eb.and([eb('type', '=', c.type), eb('state_key', '=', c.stateKey)]))))
        .execute();
    }
    for (let i = 0; i < upserts.length; i += 1000) {
      await this.#db
        .insertInto('current_state')
        .values(
          upserts.slice(i, i + 1000).map((change) => ({
            room_id: roomId,
            type: change.type,
            state_key: change.stateKey,
            event_id: change.eventId,
            membership: change.membership,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['room_id', 'type', 'state_key']).doUpdateSet((eb) => ({
            event_id: eb.ref('excluded.event_id'),
            membership: eb.ref('excluded.membership'),
          })),
        )
        .execute();
    }
  }

  /** User IDs whose current m.room.member has `membership`. */
  async membersWithMembership(roomId: string, membership: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('current_state')
      .select('state_key')
      .where('room_id', '=', roomId)
      .where('type', '=', 'm.room.member')
      .where('membership', '=', membership)
      .orderBy('state_key')
      .execute();
    return rows.map((r) => r.state_key);
  }

  /** Room IDs where `userId`'s current membership is `membership`. */
  async roomsWithMembership(userId: string, membership: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('current_state')
      .select('room_id')
      .where('type', '=', 'm.room.member')
      .where('state_key', '=', userId)
      .where('membership', '=', membership)
      .orderBy('room_id')
      .execute();
    return rows.map((r) => r.room_id);
  }
}

function isPresent(change: StateChange): change is StateEntry {
  return change.eventId !== null;
}

function pairKey(entry: { readonly type: string; readonly stateKey: string }): string {
  return `${entry.type}\u0000${entry.stateKey}`;
}

function toCurrentEntry(row: {
  type: string;
  state_key: string;
  event_id: string;
  membership: string | null;
}): CurrentStateEntry {
  return { type: row.type, stateKey: row.state_key, eventId: row.event_id, membership: row.membership };
}
