// The rate limiter the config's `rate_limits` section describes; undefined when disabled.

import type { RateLimitConfig, StoaConfig } from '../../config/types.ts';
import { TokenBucketRateLimiter, type BucketLimits } from './token-bucket.ts';

/** Bucket names endpoints use; each has a key of its own in `rate_limits`. */
export const RATE_LIMIT_BUCKETS = {
  login: 'login',
  failedLogin: 'failed_login',
  registration: 'registration',
  message: 'message',
} as const;

export function rateLimiterFromConfig(config: Pick<StoaConfig, 'rate_limits'>, clock: () => number): TokenBucketRateLimiter | undefined {
  const limits = config.rate_limits;
  if (!limits.enabled) return undefined;
  return new TokenBucketRateLimiter({
    buckets: {
      [RATE_LIMIT_BUCKETS.login]: bucket(limits.login),
      [RATE_LIMIT_BUCKETS.failedLogin]: bucket(limits.failed_login),
      [RATE_LIMIT_BUCKETS.registration]: bucket(limits.registration),
      [RATE_LIMIT_BUCKETS.message]: bucket(limits.message),
    },
    fallback: bucket(limits.default),
    clock,
  });
}

function bucket(limit: RateLimitConfig): BucketLimits {
  return { perSecond: limit.per_second, burst: limit.burst };
}
