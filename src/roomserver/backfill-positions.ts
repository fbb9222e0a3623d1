// How far down the backfilled part of the room-event stream may be read. Backfilled events
// take positions below every earlier one (events_backfill_seq, negated), reserved a batch
// at a time and written oldest (lowest) first, one event after another, while other rooms'
// batches (and other processes') go on at the same time. So a reader that went down to the
// lowest committed position could pass positions still to be written above it, and never
// see them. This is stream-positions.ts's problem upside down, and its answer: positions
// are tracked negated (growing as backfill goes down) in a stream of the cluster, which
// shares every process's promise; a placement in progress holds the promise at what was
// reserved before it started, and when it ends everything reserved so far is settled.
//
// The consumers of backfilled history (search and relation indexes: ../client-api/
// stream-consumer.ts) read down to floor(), and hear when it moves: backfill is not
// announced on the roomserver's output, which is for new events.

import type { Cluster } from '../storage/cluster/cluster.ts';
import type { StreamPositions } from '../storage/cluster/stream-positions.ts';

/** The backfilled stream's key in the cluster's announcements. */
const BACKFILL_STREAM = 'b';

export interface BackfillPositionStore {
  /** `count` positions below every position handed out before, ascending. */
  reserveBackfillPositions(count: number): Promise<number[]>;
  /** The lowest backfill position handed out so far (0 when none). */
  lowestBackfillPosition(): Promise<number>;
}

export class BackfillPositions {
  readonly #cluster: Cluster;
  readonly #store: BackfillPositionStore;
  #stream: Promise<StreamPositions> | undefined;
  /** The lowest position this process reserved (0: none). */
  #lowestReserved = 0;
  readonly #listeners = new Set<() => void>();

  constructor(cluster: Cluster, store: BackfillPositionStore) {
    this.#cluster = cluster;
    this.#store = store;
  }

  /** Reads where backfill stands, so the cluster announces this process's promise from the first message on. */
  async ready(): Promise<void> {
    await this.#tracker();
  }

  /** Positions for a batch of backfilled events; call inside placing(). */
  async reserve(count: number): Promise<number[]> {
    const positions = await this.#store.reserveBackfillPositions(count);
    const lowest = positions[0];
    if (lowest !== undefined && lowest < this.#lowestReserved) this.#lowestReserved = lowest;
    return positions;
  }

  /**
   * Runs the placement of one backfilled batch. Meanwhile readers stop above whatever it
   * reserves; afterwards every position it reserved is settled, written or never to be.
   */
  async placing<T>(place: () => Promise<T>): Promise<T> {
    const stream = await this.#tracker();
    let result: { value: T } | undefined;
    try {
      // An allocation that returns no position: the promise stays where it was when it began.
      await stream.allocating(async () => {
        result = { value: await place() };
        return null;
      });
    } finally {
      // Placements that began earlier still hold the promise above their own positions.
      if (this.#lowestReserved < 0) stream.committed(-this.#lowestReserved);
    }
    if (result === undefined) throw new Error('unreachable: the placement returned nothing');
    return result.value;
  }

  /**
   * Every backfilled event at or above this position (≤ 0) is written, or never will be:
   * readers of backfilled history may read down to it and keep it as where they are.
   */
  async floor(): Promise<number> {
    await this.#cluster.started;
    const safe = (await this.#tracker()).safePosition();
    // Negated back; -0 is 0.
    return safe <= 0 ? 0 : -safe;
  }

  /** Called each time floor() moves down (by any process's backfill). */
  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #tracker(): Promise<StreamPositions> {
    this.#stream ??= this.#store.lowestBackfillPosition().then(
      (lowest) => {
        const stream = this.#cluster.stream(BACKFILL_STREAM, -lowest);
        stream.onAdvance(() => {
          for (const listener of [...this.#listeners]) listener();
        });
        return stream;
      },
      (error: unknown) => {
        // Not cached: the next call reads again.
        this.#stream = undefined;
        throw error;
      },
    );
    return this.#stream;
  }
}
