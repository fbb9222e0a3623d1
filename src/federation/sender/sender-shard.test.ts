// DESIGN.md "Scale": federation sending split by destination. Every process must agree on
// which sender owns a destination, and the split must spread destinations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { senderShardOf } from './federation-sender.ts';

test('a destination has one sender, the same in every process', () => {
  for (const name of ['matrix.org', 'example.com:8448', '127.0.0.1:8009', '[::1]:443']) {
    const shard = senderShardOf(name, 3);
    assert.ok(shard >= 0 && shard < 3);
    assert.equal(senderShardOf(name, 3), shard);
    assert.equal(senderShardOf(name, 1), 0);
  }
});

test('destinations spread over the senders', () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[senderShardOf(`server${i}.example.org`, 4)]! += 1;
  for (const count of counts) assert.ok(count > 800 && count < 1200, `uneven split: ${counts.join(', ')}`);
});
