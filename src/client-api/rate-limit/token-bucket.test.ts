// client-server API § "Rate limiting": token buckets on a deterministic clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucketRateLimiter } from './token-bucket.ts';

function limiter(options: { perSecond: number; burst: number; maxEntries?: number }) {
  let now = 1_000_000;
  const rl = new TokenBucketRateLimiter({
    buckets: { login: { perSecond: options.perSecond, burst: options.burst } },
    clock: () => now,
    ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
  });
  return { rl, advance: (ms: number) => void (now += ms) };
}

test('a full bucket allows `burst` requests at once, then refuses with the wait until the next token', () => {
  const { rl } = limiter({ perSecond: 0.5, burst: 3 });
  assert.equal(rl.consume('login', 'ip:a'), 0);
  assert.equal(rl.consume('login', 'ip:a'), 0);
  assert.equal(rl.consume('login', 'ip:a'), 0);
  assert.equal(rl.consume('login', 'ip:a'), 2000);
});

test('tokens refill at per_second, up to burst', () => {
  const { rl, advance } = limiter({ perSecond: 2, burst: 2 });
  assert.equal(rl.consume('login', 'k'), 0);
  assert.equal(rl.consume('login', 'k'), 0);
  assert.equal(rl.consume('login', 'k'), 500);
  advance(250);
  assert.equal(rl.consume('login', 'k'), 250, 'half a token has come back');
  advance(250);
  assert.equal(rl.consume('login', 'k'), 0);
  advance(60_000);
  assert.equal(rl.consume('login', 'k'), 0);
  assert.equal(rl.consume('login', 'k'), 0);
  assert.ok(rl.consume('login', 'k') > 0, 'a long pause refills only up to burst');
});

test('keys and buckets are independent; unknown buckets are not limited without a fallback', () => {
  const { rl } = limiter({ perSecond: 1, burst: 1 });
  assert.equal(rl.consume('login', 'a'), 0);
  assert.ok(rl.consume('login', 'a') > 0);
  assert.equal(rl.consume('login', 'b'), 0);
  for (let i = 0; i < 100; i++) assert.equal(rl.consume('other', 'a'), 0);
});

test('the fallback limits bucket names without limits of their own', () => {
  const rl = new TokenBucketRateLimiter({ buckets: {}, fallback: { perSecond: 1, burst: 2 }, clock: () => 0 });
  assert.equal(rl.consume('anything', 'k'), 0);
  assert.equal(rl.consume('anything', 'k'), 0);
  assert.equal(rl.consume('anything', 'k'), 1000);
});

test('peek answers like consume without taking a token', () => {
  const { rl } = limiter({ perSecond: 1, burst: 1 });
  assert.equal(rl.peek('login', 'k'), 0);
  assert.equal(rl.peek('login', 'k'), 0);
  assert.equal(rl.consume('login', 'k'), 0);
  assert.equal(rl.peek('login', 'k'), 1000);
});

test('memory stays bounded: beyond maxEntries, refilled and then least recently used buckets are forgotten', () => {
  const { rl, advance } = limiter({ perSecond: 1, burst: 1, maxEntries: 10 });
  assert.equal(rl.consume('login', 'hot'), 0);
  for (let i = 0; i < 50; i++) {
    rl.consume('login', `cold-${i}`);
    advance(1);
  }
  // 'hot' was evicted long ago (least recently used): a forgotten bucket starts full.
  assert.equal(rl.consume('login', 'hot'), 0);
  // A recent key is still remembered and still empty.
  assert.ok(rl.consume('login', 'cold-49') > 0);
});

test('nonsensical limits are refused at construction', () => {
  assert.throws(() => new TokenBucketRateLimiter({ buckets: { x: { perSecond: 0, burst: 1 } }, clock: () => 0 }));
  assert.throws(() => new TokenBucketRateLimiter({ buckets: { x: { perSecond: 1, burst: 0 } }, clock: () => 0 }));
});
