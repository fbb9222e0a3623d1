import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInt8, parseInt8Array } from './int8.ts';

test('parseInt8 accepts the safe integer range exactly', () => {
  assert.equal(parseInt8('0'), 0);
  assert.equal(parseInt8('-42'), -42);
  assert.equal(parseInt8('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.equal(parseInt8('-9007199254740991'), Number.MIN_SAFE_INTEGER);
});

test('parseInt8 refuses values a JS number cannot hold exactly', () => {
  assert.throws(() => parseInt8('9007199254740992'), RangeError);
  assert.throws(() => parseInt8('-9223372036854775808'), RangeError);
  assert.throws(() => parseInt8('not a number'), RangeError);
});

test('parseInt8Array reads one-dimensional int8[] text', () => {
  assert.deepEqual(parseInt8Array('{}'), []);
  assert.deepEqual(parseInt8Array('{1,NULL,-3}'), [1, null, -3]);
  assert.throws(() => parseInt8Array('{{1,2},{3,4}}'), RangeError);
  assert.throws(() => parseInt8Array('1,2'), RangeError);
  assert.throws(() => parseInt8Array('{9007199254740993}'), RangeError);
});
