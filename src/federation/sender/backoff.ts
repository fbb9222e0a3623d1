// Retry intervals for an unreachable destination: exponential from `minMs`, doubling per
// consecutive failure, capped at `maxMs` (issue 5 item 6: "exponential backoff with a cap").
// Deterministic, so the schedule can be tested and explained to an operator.

export interface BackoffPolicy {
  readonly minMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 1_000, maxMs: 60 * 60 * 1_000 };

/** The wait after the `failures`-th consecutive failure (1 → minMs, 2 → 2·minMs, … ≤ maxMs). */
export function retryIntervalMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  // 2^52 already exceeds any sane cap; stop doubling long before the float loses integers.
  const exponent = Math.min(failures - 1, 52);
  return Math.min(policy.maxMs, policy.minMs * 2 ** exponent);
}
