import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine } from './args.ts';
import { UsageError } from './io.ts';

test('commands and their options', () => {
  assert.deepEqual(parseCommandLine(['start']), { command: 'start', config: undefined, output: undefined });
  assert.deepEqual(parseCommandLine(['start', '--config', 'h.yaml']), { command: 'start', config: 'h.yaml', output: undefined });
  assert.deepEqual(parseCommandLine(['start', '--config=h.yaml']), { command: 'start', config: 'h.yaml', output: undefined });
  assert.deepEqual(parseCommandLine(['-c', 'h.yaml', 'migrate']), { command: 'migrate', config: 'h.yaml', output: undefined });
  assert.deepEqual(parseCommandLine(['generate-keys', '--output', 'k']), { command: 'generate-keys', config: undefined, output: 'k' });
  assert.deepEqual(parseCommandLine(['help']), { command: 'help', config: undefined, output: undefined });
  assert.deepEqual(parseCommandLine(['start', '--help']), { command: 'help', config: undefined, output: undefined });
});

test('bad command lines are usage errors', () => {
  for (const argv of [
    [],
    ['serve'],
    ['start', 'extra'],
    ['start', '--verbose'],
    ['start', '--config'],
    ['start', '--output', 'k'],
    ['migrate', '--config', ''],
    ['generate-keys', '--config', 'h.yaml', '--output', 'k'],
  ]) {
    assert.throws(() => parseCommandLine(argv), UsageError, JSON.stringify(argv));
  }
});
