import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverV8Flags } from './v8-flags.ts';

test('stoa start, export-room and verify-export get the V8 flags once; other commands and explicit choices are left alone', () => {
  assert.deepEqual(serverV8Flags(['start'], [], {}), ['--max-semi-space-size=4']);
  assert.deepEqual(serverV8Flags(['start', '--config', 'x.yaml'], ['--max-semi-space-size=4'], {}), [], 'already re-executed');
  assert.deepEqual(serverV8Flags(['start'], ['--max-semi-space-size=16'], {}), [], 'the operator chose');
  assert.deepEqual(serverV8Flags(['start'], [], { NODE_OPTIONS: '--max_semi_space_size=8' }), []);
  assert.deepEqual(serverV8Flags(['start'], [], { STOA_V8_DEFAULTS: '0' }), []);
  assert.deepEqual(serverV8Flags(['migrate'], [], {}), []);
  assert.deepEqual(serverV8Flags(['export-room', '--room', '!r:x'], [], {}), ['--max-semi-space-size=4']);
  assert.deepEqual(serverV8Flags(['verify-export', 'bundle'], [], {}), ['--max-semi-space-size=4']);
  assert.deepEqual(serverV8Flags(['help'], [], {}), []);
});
