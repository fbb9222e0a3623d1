// Answers of the roomserver's current-state queries (members, memberships, state events,
// a user's rooms), kept until a write of this process changes what they read. Followers of
// every new event (push rules, sync) ask the same questions about the same rooms for each
// event; an ordinary message changes none of the answers.
//
// A write bumps the generation of the rooms (and users) whose current state it changed,
// right after its commit and before its event is announced. A reader notes the generation
// before it reads and keeps its answer only when no bump happened meanwhile, so an answer
// read before a commit never outlives it. Another process sharing the database does not
// bump here: answers are also dropped after a few seconds, the staleness such a setup
// already has for access tokens.

interface Entry {
  readonly value: unknown;
  readonly generation: number;
  readonly at: number;
}

export class QueryCache {
  readonly #entries = new Map<string, Entry>();
  readonly #generations = new Map<string, number>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  /** Bumped to invalidate everything at once. */
  #epoch = 0;

  constructor(options: { capacity?: number; ttlMs?: number; clock?: () => number } = {}) {
    this.#capacity = options.capacity ?? 4096;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** `scope` is what a write invalidates (`room:<id>` or `user:<id>`); `key` identifies the question. */
  async get<T>(scope: string, key: string, load: () => Promise<T>): Promise<T> {
    const generation = this.#generation(scope);
    const fullKey = `${scope}\u0000${key}`;
    const now = this.#clock();
    const hit = this.#entries.get(fullKey);
    if (hit !== undefined && hit.generation === generation && now - hit.at < this.#ttlMs) return hit.value as T;
    const value = await load();
    if (this.#generation(scope) === generation) {
      this.#entries.delete(fullKey);
      this.#entries.set(fullKey, { value, generation, at: now });
      if (this.#entries.size > this.#capacity) {
        const oldest = this.#entries.keys().next();
        if (oldest.done !== true) this.#entries.delete(oldest.value);
      }
    }
    return value;
  }

  invalidate(scope: string): void {
    this.#generations.set(scope, (this.#generations.get(scope) ?? 0) + 1);
    if (this.#generations.size > 100_000) this.invalidateAll();
  }

  invalidateAll(): void {
    this.#epoch++;
    this.#generations.clear();
    this.#entries.clear();
  }

  #generation(scope: string): number {
    // The epoch keeps generations increasing across invalidateAll().
    return this.#epoch * 2 ** 32 + (this.#generations.get(scope) ?? 0);
  }
}
