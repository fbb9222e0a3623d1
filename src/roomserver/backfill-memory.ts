// Which resident servers recently failed to answer /backfill for a room (server-server §
// "Backfilling and retrieving missing events"). Without it every /messages that scrolls
// past the earliest event of a room whose servers are down asks them again and waits out
// the whole request timeout each time. A failure keeps the server out of that room's
// backfills for a while, doubling with each failure in a row, so /messages meanwhile
// answers at once with the history held here; after the wait the server is asked again.
//
// Per (room, server): a server may serve one room's /backfill and fail another's (it left
// the room, it lacks the history). In memory only: a restart forgets, and the first
// request after it pays one timeout again. The map is capped; the oldest entries go first.

/** The first wait after a failure. */
const BASE_MS = 30_000;
/** The longest wait (from the 8th failure in a row). */
const MAX_MS = 60 * 60_000;
/** Pairs remembered at most. */
const CAPACITY = 10_000;

export interface BackfillMemoryOptions {
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly capacity?: number;
}

interface Failure {
  /** Failures in a row. */
  readonly count: number;
  /** Not asked again before this time. */
  readonly retryAt: number;
}

export class BackfillMemory {
  readonly #clock: () => number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #capacity: number;
  /** By `server room`: the server name holds no space, so the key splits one way only. */
  readonly #failures = new Map<string, Failure>();

  constructor(options: BackfillMemoryOptions) {
    this.#clock = options.clock;
    this.#baseMs = options.baseMs ?? BASE_MS;
    this.#maxMs = Math.max(options.maxMs ?? MAX_MS, this.#baseMs);
    this.#capacity = Math.max(1, options.capacity ?? CAPACITY);
  }

  /**
   * Runs `request` to `server` and remembers how it went; undefined when it failed (the
   * error is the network's or the peer's, and only its having happened matters here).
   */
  async ask<T>(roomId: string, server: string, request: () => Promise<T>): Promise<T | undefined> {
    try {
      const answer = await request();
      this.answered(roomId, server);
      return answer;
    } catch {
      this.failed(roomId, server);
      return undefined;
    }
  }

  /** Whether `server` may be asked for `roomId`'s history now (not waiting after a failure). */
  mayAsk(roomId: string, server: string): boolean {
    const failure = this.#failures.get(keyOf(roomId, server));
    return failure === undefined || this.#clock() >= failure.retryAt;
  }

  /** `server` did not answer (a timeout, a network or HTTP error): wait before asking it again. */
  failed(roomId: string, server: string): void {
    const key = keyOf(roomId, server);
    const now = this.#clock();
    const previous = this.#failures.get(key);
    // A failure long after the last wait ended starts the series again.
    const count = previous === undefined || now >= previous.retryAt + this.#maxMs ? 1 : previous.count + 1;
    const wait = Math.min(this.#baseMs * 2 ** Math.min(count - 1, 30), this.#maxMs);
    // Re-inserted, so the map's order is the order of last failure and eviction takes the stalest.
    this.#failures.delete(key);
    this.#failures.set(key, { count, retryAt: now + wait });
    for (const stale of this.#failures.keys()) {
      if (this.#failures.size <= this.#capacity) break;
      this.#failures.delete(stale);
    }
  }

  /** `server` answered: it is asked at once next time. */
  answered(roomId: string, server: string): void {
    this.#failures.delete(keyOf(roomId, server));
  }

  /** Pairs remembered. */
  get size(): number {
    return this.#failures.size;
  }
}

function keyOf(roomId: string, server: string): string {
  return `${server} ${roomId}`;
}
