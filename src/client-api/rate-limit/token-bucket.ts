// Rate limiting (client-server API § "Rate limiting") with one token bucket per (bucket
// name, key): a bucket holds up to `burst` tokens and refills at `perSecond`; a request
// takes one token or is refused with how long until one is there (→ 429 M_LIMIT_EXCEEDED
// with `retry_after_ms`). The app keys by user ID, else origin server, else client IP.
//
// Buckets live in this process's memory. With several Stoa processes behind a load
// balancer each process limits on its own, so the effective limit is per process.

import type { RateLimiter } from '../../http/define-endpoint.ts';

export interface BucketLimits {
  /** Tokens added per second (may be fractional: 0.1 = one every ten seconds). */
  readonly perSecond: number;
  /** Bucket size: requests allowed at once after a quiet spell. */
  readonly burst: number;
}

export interface TokenBucketOptions {
  /** Limits per bucket name. */
  readonly buckets: Readonly<Record<string, BucketLimits>>;
  /** Limits for bucket names not in `buckets`; unset: such buckets are not limited. */
  readonly fallback?: BucketLimits | undefined;
  /** Milliseconds; injected so tests can move time. */
  readonly clock: () => number;
  /** How many (bucket, key) states to keep before forgetting full and then old ones. */
  readonly maxEntries?: number;
}

interface BucketState {
  tokens: number;
  updatedMs: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;

export class TokenBucketRateLimiter implements RateLimiter {
  readonly #limits: ReadonlyMap<string, BucketLimits>;
  readonly #fallback: BucketLimits | undefined;
  readonly #clock: () => number;
  readonly #maxEntries: number;
  // Map iteration order is insertion order; touching an entry re-inserts it, so the first
  // entries are the least recently used.
  readonly #states = new Map<string, BucketState>();

  constructor(options: TokenBucketOptions) {
    for (const [name, limits] of Object.entries(options.buckets)) checkLimits(name, limits);
    if (options.fallback !== undefined) checkLimits('fallback', options.fallback);
    this.#limits = new Map(Object.entries(options.buckets));
    this.#fallback = options.fallback;
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** Takes a token: 0 when the request may go ahead, else milliseconds until it may. */
  consume(bucket: string, key: string): number {
    return this.#take(bucket, key, true);
  }

  /** What `consume` would answer, without taking a token. */
  peek(bucket: string, key: string): number {
    return this.#take(bucket, key, false);
  }

  #take(bucket: string, key: string, consume: boolean): number {
    const limits = this.#limits.get(bucket) ?? this.#fallback;
    if (limits === undefined) return 0;
    const now = this.#clock();
    const id = `${bucket}\u0000${key}`;
    const state = this.#states.get(id) ?? { tokens: limits.burst, updatedMs: now };
    const elapsed = Math.max(0, now - state.updatedMs);
    const tokens = Math.min(limits.burst, state.tokens + (elapsed * limits.perSecond) / 1000);
    if (tokens >= 1) {
      if (consume) this.#store(id, { tokens: tokens - 1, updatedMs: now }, limits);
      return 0;
    }
    if (consume) this.#store(id, { tokens, updatedMs: now }, limits);
    return Math.ceil(((1 - tokens) / limits.perSecond) * 1000);
  }

  #store(id: string, state: BucketState, limits: BucketLimits): void {
    this.#states.delete(id);
    this.#states.set(id, state);
    if (this.#states.size > this.#maxEntries) this.#evict(limits);
  }

  /** Forgets buckets that have refilled (they behave as new ones), then the least recently used. */
  #evict(current: BucketLimits): void {
    const now = this.#clock();
    for (const [id, state] of this.#states) {
      if (this.#states.size <= this.#maxEntries * 0.9) return;
      const limits = this.#limits.get(id.slice(0, id.indexOf('\u0000'))) ?? this.#fallback ?? current;
      if (state.tokens + ((now - state.updatedMs) * limits.perSecond) / 1000 >= limits.burst) this.#states.delete(id);
    }
    for (const id of this.#states.keys()) {
      if (this.#states.size <= this.#maxEntries) return;
      this.#states.delete(id);
    }
  }
}

function checkLimits(name: string, limits: BucketLimits): void {
  if (!(limits.perSecond > 0) || !(limits.burst >= 1)) {
    throw new Error(`rate limit ${name}: per_second must be > 0 and burst >= 1`);
  }
}
