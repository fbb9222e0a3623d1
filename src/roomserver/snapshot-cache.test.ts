// The state snapshot cache stays bounded in entries, not only in maps: large rooms' maps
// are big (one entry per member).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnapshotCache } from './state.ts';

function stateOf(size: number): Map<string, string> {
  return new Map(Array.from({ length: size }, (_, i) => [`m.room.member\u0000@u${i}:x`, `$e${i}`]));
}

test('evicts the least recently used maps when their entries pass the bound', () => {
  const cache = new SnapshotCache(512, 25);
  cache.set(1, stateOf(10));
  cache.set(2, stateOf(10));
  assert.ok(cache.get(1) !== undefined, 'touch 1: 2 becomes the oldest');
  cache.set(3, stateOf(10));
  assert.equal(cache.get(2), undefined);
  assert.ok(cache.get(1) !== undefined && cache.get(3) !== undefined);
  assert.deepEqual(cache.size, { maps: 2, entries: 20 });
});

test('keeps the newest map even when it alone is over the bound, and counts a replaced map once', () => {
  const cache = new SnapshotCache(512, 5);
  cache.set(1, stateOf(3));
  cache.set(2, stateOf(8));
  assert.deepEqual(cache.size, { maps: 1, entries: 8 });
  cache.set(2, stateOf(4));
  assert.deepEqual(cache.size, { maps: 1, entries: 4 });
});

test('still bounds the number of maps', () => {
  const cache = new SnapshotCache(2, 1000);
  for (let id = 1; id <= 5; id++) cache.set(id, stateOf(1));
  assert.deepEqual(cache.size, { maps: 2, entries: 2 });
});
