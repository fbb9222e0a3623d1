// The versioned, opaque /sync token (client-server § "Syncing": `next_batch`/`since`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MatrixError } from '../../http/matrix-error.ts';
import { decodeSyncToken, encodeSyncToken, parseSyncToken } from './sync-token.ts';

test('sync token round-trips every position (§ Syncing next_batch)', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      fc.dictionary(fc.constantFrom('t', 'r', 'a', 'p', 'd', 'dl'), fc.nat({ max: 2 ** 40 })),
      (events, streams) => {
        const token = encodeSyncToken({ events, streams });
        assert.match(token, /^v1_[A-Za-z0-9_-]+$/);
        const decoded = decodeSyncToken(token);
        assert.ok(decoded.ok);
        assert.deepEqual(decoded.position, { events, streams: { ...streams } });
      },
    ),
  );
});

test('sync token: garbled, foreign and unversioned tokens are rejected', () => {
  const good = encodeSyncToken({ events: 5, streams: { t: 1 } });
  for (const bad of [
    '',
    's72594_4483_1934',
    'v2_' + good.slice(3),
    'v1_',
    'v1_!!!',
    'v1_' + Buffer.from('t=1').toString('base64url'),
    'v1_' + Buffer.from('e=1.e=2').toString('base64url'),
    'v1_' + Buffer.from('e=-1').toString('base64url'),
    'v1_' + Buffer.from('e=01').toString('base64url'),
    'v1_' + Buffer.from('e=99999999999999999').toString('base64url'),
    'v1_' + Buffer.from('e=1.T=2').toString('base64url'),
    'x'.repeat(600),
  ]) {
    assert.equal(decodeSyncToken(bad).ok, false, bad);
  }
  assert.throws(() => parseSyncToken('garbage', 'since'), (e: unknown) => e instanceof MatrixError && e.status === 400 && e.errcode === 'M_INVALID_PARAM');
});

test('sync token: arbitrary strings never crash the decoder', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const result = decodeSyncToken(s);
    assert.equal(typeof result.ok, 'boolean');
  }));
});
