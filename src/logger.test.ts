import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './logger.ts';

function capture(): { lines: () => Record<string, unknown>[]; stream: { write(chunk: string): void } } {
  let text = '';
  return {
    stream: { write: (chunk: string) => void (text += chunk) },
    lines: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('one JSON object a line, with the level by name and the given fields', () => {
  const out = capture();
  const logger = createLogger('info', out.stream);
  logger.info({ client_port: 8008, federation_port: 8448, metrics_port: null }, 'listening');
  const [line, ...rest] = out.lines();
  assert.equal(rest.length, 0);
  assert.equal(line?.['msg'], 'listening');
  assert.equal(line?.['level'], 'info');
  assert.equal(line?.['client_port'], 8008);
  assert.equal(line?.['metrics_port'], null);
  assert.equal(typeof line?.['time'], 'string');
});

test('messages below the configured level are dropped; child loggers keep their bindings', () => {
  const out = capture();
  const logger = createLogger('warn', out.stream);
  logger.info('hidden');
  logger.child({ component: 'storage' }).warn('shown');
  const lines = out.lines();
  assert.deepEqual(lines.map((l) => l['msg']), ['shown']);
  assert.equal(lines[0]?.['component'], 'storage');
});
