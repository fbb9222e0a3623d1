import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoaConfig } from '../../config/types.ts';
import { RATE_LIMIT_BUCKETS, rateLimiterFromConfig } from './from-config.ts';

const limit = (burst: number): { per_second: number; burst: number } => ({ per_second: 0.001, burst });

const config: Pick<StoaConfig, 'rate_limits'> = {
  rate_limits: {
    enabled: true,
    login: limit(1),
    failed_login: limit(1),
    registration: limit(1),
    message: limit(1),
    join: limit(2),
    media_upload: limit(3),
    federation: limit(4),
    default: limit(50),
  },
};

test('join, media_upload and federation have buckets of their own, keyed separately', () => {
  const limiter = rateLimiterFromConfig(config, () => 0)!;
  const allowed = (bucket: string, key: string): number => {
    let n = 0;
    while (limiter.consume(bucket, key) === 0 && n < 100) n++;
    return n;
  };
  assert.equal(allowed(RATE_LIMIT_BUCKETS.join, 'user:@a:x'), 2);
  assert.equal(allowed(RATE_LIMIT_BUCKETS.join, 'user:@b:x'), 2);
  assert.equal(allowed(RATE_LIMIT_BUCKETS.mediaUpload, 'user:@a:x'), 3);
  assert.equal(allowed(RATE_LIMIT_BUCKETS.federation, 'server:one.example'), 4);
  assert.equal(allowed(RATE_LIMIT_BUCKETS.federation, 'server:two.example'), 4);
  assert.equal(allowed('some_other_bucket', 'user:@a:x'), 50);
});

test('disabled: no limiter at all', () => {
  assert.equal(rateLimiterFromConfig({ rate_limits: { ...config.rate_limits, enabled: false } }, () => 0), undefined);
});
