// The rate limiter the config's `rate_limits` section describes; undefined when disabled.

import type { RateLimitConfig, StoaConfig } from '../../config/types.ts';
import { TokenBucketRateLimiter, type BucketLimits } from './token-bucket.ts';

/** Bucket names endpoints use; each has a key of its own in `rate_limits`. */
export const RATE_LIMIT_BUCKETS = {
  login: 'login',
  failedLogin: 'failed_login',
  registration: 'registration',
  message: 'message',
  join: 'join',
  mediaUpload: 'media_upload',
  /** Applied by the app to federation requests whose endpoint names no bucket. */
  federation: 'federation',
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
      [RATE_LIMIT_BUCKETS.join]: bucket(limits.join),
      [RATE_LIMIT_BUCKETS.mediaUpload]: bucket(limits.media_upload),
      [RATE_LIMIT_BUCKETS.federation]: bucket(limits.federation),
    },
    fallback: bucket(limits.default),
    clock,
  });
}

function bucket(limit: RateLimitConfig): BucketLimits {
  return { perSecond: limit.per_second, burst: limit.burst };
}
