// The directory's summary cache: invalidation, reads that raced an event, expiry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SummaryCache } from './summary-cache.ts';
import { summaryFromState } from './summary.ts';

test('client-server-api § Published room directory: cached summaries never outlive a change', () => {
  let now = 0;
  const cache = new SummaryCache(() => now);
  const summary = summaryFromState('!r:x', '12', 1, new Map([['m.room.create', {}]]));

  cache.set(summary, cache.generation('!r:x'));
  assert.equal(cache.get('!r:x'), summary);
  cache.invalidate('!r:x');
  assert.equal(cache.get('!r:x'), undefined);

  // A read that started before an event must not store what it read.
  const before = cache.generation('!r:x');
  cache.invalidate('!r:x');
  cache.set(summary, before);
  assert.equal(cache.get('!r:x'), undefined);

  cache.set(summary, cache.generation('!r:x'));
  now += 60_000;
  assert.equal(cache.get('!r:x'), undefined, 'expired');
});
