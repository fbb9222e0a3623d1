// client-server § "Syncing" (pagination tokens): `s<N>` round-trips, junk is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeSyncToken } from '../sync/sync-token.ts';
import { decodePaginationToken, encodePaginationToken } from './token.ts';

test('pagination token § round trip for every stream position', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
      assert.equal(decodePaginationToken(encodePaginationToken(n)), n);
    }),
  );
});

test('pagination token § multi-stream tokens whose first part is the event position', () => {
  assert.equal(decodePaginationToken('s42_7_0_3'), 42);
  assert.equal(decodePaginationToken('s0'), 0);
});

test('pagination token § malformed tokens are not ours', () => {
  for (const bad of ['', 's', 'x12', 's-0', 's--1', 's01', 's1.5', 's 1', 't12-3', 's99999999999999999', 's1_\u00e9', '12']) {
    assert.equal(decodePaginationToken(bad), undefined, bad);
  }
  // Backfilled history sits at negative positions.
  assert.equal(decodePaginationToken(encodePaginationToken(-1)), -1);
  assert.throws(() => encodePaginationToken(1.5), RangeError);
});

test('pagination token § a /sync prev_batch or next_batch is read by its room-event position', () => {
  assert.equal(decodePaginationToken(encodeSyncToken({ events: 17, streams: { t: 3, r: 9 } })), 17);
  assert.equal(decodePaginationToken('v1_!!'), undefined);
  assert.equal(decodePaginationToken('v9_ZT0x'), undefined);
});
