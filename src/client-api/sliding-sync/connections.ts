// Per-connection state of simplified sliding sync (MSC4186): what each (user, device,
// conn_id) connection has been sent, so an incremental response carries only the rooms
// that changed and only the state the client does not have yet.
//
// Kept in memory. Every response mints a position (`pos`) naming an immutable snapshot of
// what the client will have once it processes that response. A request with `pos` N
// computes from snapshot N, so a client retrying a request whose response was lost gets
// the same rooms again; snapshots older than the one the client presents are dropped. A
// `pos` we do not know (expired, evicted, another server process) is M_UNKNOWN_POS, and the
// client starts a fresh connection — the MSC's recovery path, so memory can stay bounded.

import { randomBytes } from 'node:crypto';
import { MatrixError } from '../../http/matrix-error.ts';
import type { SyncPosition } from '../sync/sync-token.ts';
import type { RequiredState } from './required-state.ts';

/** What the client holds of one room. */
export interface RoomSent {
  /** The room-event position the client's copy of the room is current up to. */
  readonly upTo: number;
  /** The membership the room was sent with: a change (invite → join) sends the room anew. */
  readonly membership: string;
  /** The required_state it was sent with: state newly asked for is sent when it widens. */
  readonly requiredState: RequiredState;
  /** Members whose m.room.member event was sent through `$LAZY`. */
  readonly lazyMembers: ReadonlySet<string>;
  /** The timeline_limit it was sent with: a larger one sends the room's history again. */
  readonly timelineLimit: number;
}

export interface Snapshot {
  /** The stream positions the previous response covered; undefined: nothing sent yet. */
  readonly position: SyncPosition | undefined;
  readonly rooms: ReadonlyMap<string, RoomSent>;
  /** Extensions whose initial data was sent (account data sends everything first). */
  readonly extensions: ReadonlySet<string>;
  readonly listCounts: ReadonlyMap<string, number>;
}

export const EMPTY_SNAPSHOT: Snapshot = { position: undefined, rooms: new Map(), extensions: new Set(), listCounts: new Map() };

interface Connection {
  readonly id: string;
  next: number;
  readonly snapshots: Map<number, Snapshot>;
}

export function unknownPos(): MatrixError {
  return new MatrixError(400, 'M_UNKNOWN_POS', 'Unknown position');
}

export interface ConnectionKey {
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly connId: string | undefined;
}

export class ConnectionStore {
  readonly #maxConnections: number;
  /** Insertion order is recency of use: the first entry is evicted first. */
  readonly #connections = new Map<string, Connection>();

  constructor(maxConnections = 10_000) {
    this.#maxConnections = maxConnections;
  }

  get size(): number {
    return this.#connections.size;
  }

  /**
   * The snapshot `pos` names, or a fresh connection's empty one when `pos` is absent
   * (which also forgets the connection's earlier state). Throws M_UNKNOWN_POS.
   */
  resolve(key: ConnectionKey, pos: string | undefined): { snapshot: Snapshot; commit: (snapshot: Snapshot) => string } {
    const name = keyOf(key);
    let connection = this.#connections.get(name);
    let snapshot: Snapshot;
    if (pos === undefined) {
      connection = { id: randomBytes(6).toString('hex'), next: 1, snapshots: new Map() };
      snapshot = EMPTY_SNAPSHOT;
    } else {
      const parsed = /^([0-9a-f]{12})_([1-9][0-9]{0,15})$/.exec(pos);
      if (connection === undefined || parsed === null || parsed[1] !== connection.id) throw unknownPos();
      const number = Number(parsed[2]);
      const found = connection.snapshots.get(number);
      if (found === undefined) throw unknownPos();
      snapshot = found;
      // The client has what `number` describes: anything before it is of no further use.
      for (const n of connection.snapshots.keys()) if (n < number) connection.snapshots.delete(n);
    }
    this.#connections.delete(name);
    this.#connections.set(name, connection);
    while (this.#connections.size > this.#maxConnections) {
      const oldest = this.#connections.keys().next().value;
      if (oldest === undefined) break;
      this.#connections.delete(oldest);
    }
    const conn = connection;
    return {
      snapshot,
      commit: (next) => {
        const number = conn.next++;
        conn.snapshots.set(number, next);
        // A client that keeps retrying an old position still leaves only a few behind.
        if (conn.snapshots.size > 8) {
          const first = conn.snapshots.keys().next().value;
          if (first !== undefined) conn.snapshots.delete(first);
        }
        return `${conn.id}_${number}`;
      },
    };
  }
}

function keyOf(key: ConnectionKey): string {
  return JSON.stringify([key.userId, key.deviceId ?? '', key.connId ?? '']);
}
