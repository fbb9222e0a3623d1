import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSearchToken, encodeSearchToken } from './search-token.ts';

test('client-server § Server Side Search, Pagination: next_batch tokens round-trip', () => {
  const tokens = [
    { orderBy: 'recent' as const, cursor: { streamOrdering: 42 } },
    { orderBy: 'rank' as const, cursor: { rank: 0.1 + 0.2, streamOrdering: 7 } },
    { orderBy: 'rank' as const, cursor: { rank: 1e-300, streamOrdering: 0 }, group: { key: 'room_id' as const, value: '!r:x' } },
    { orderBy: 'recent' as const, cursor: { streamOrdering: 9 }, group: { key: 'sender' as const, value: '@u:x' } },
    // Backfilled history sits at negative stream positions.
    { orderBy: 'recent' as const, cursor: { streamOrdering: -12 } },
    { orderBy: 'rank' as const, cursor: { rank: 0.5, streamOrdering: -3 } },
  ];
  for (const token of tokens) assert.deepEqual(decodeSearchToken(encodeSearchToken(token)), token);
});

test('client-server § Server Side Search, Pagination: unknown next_batch tokens are M_INVALID_PARAM', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  for (const bad of [
    '',
    'not base64!',
    'YWxsCgpOb25lLDM1ODcwOA',
    b64([]),
    b64({ o: 'rank', s: 1 }),
    b64({ o: 'oldest', s: 1 }),
    b64({ o: 'recent', s: Number.MIN_SAFE_INTEGER - 2 }),
    b64({ o: 'recent', s: 1.5 }),
    b64({ o: 'recent', s: 1, g: ['state_key', 'x'] }),
    b64({ o: 'recent', s: 1, g: ['room_id'] }),
    'x'.repeat(3000),
  ]) {
    assert.throws(() => decodeSearchToken(bad), { errcode: 'M_INVALID_PARAM' }, bad);
  }
});
