import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from './config-error.ts';
import { readEnvironment } from './env.ts';

test('STOA_CONFIG names the config file; STOA_LOG_LEVEL overrides log_level', () => {
  const environment = readEnvironment({ STOA_CONFIG: '/etc/stoa/homeserver.yaml', STOA_LOG_LEVEL: 'debug', HOME: '/root' });
  assert.deepEqual(environment, { configPath: '/etc/stoa/homeserver.yaml', logLevel: 'debug', testPostgresUrl: undefined });
});

test('unset and empty variables count as unset', () => {
  assert.deepEqual(readEnvironment({ STOA_CONFIG: '', STOA_LOG_LEVEL: '  ' }), {
    configPath: undefined,
    logLevel: undefined,
    testPostgresUrl: undefined,
  });
});

test('STOA_TEST_POSTGRES_URL is passed through for the storage test rig', () => {
  assert.equal(readEnvironment({ STOA_TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1/postgres' }).testPostgresUrl, 'postgres://postgres@127.0.0.1/postgres');
});

test('a bad STOA_LOG_LEVEL is a one-line config error', () => {
  assert.throws(() => readEnvironment({ STOA_LOG_LEVEL: 'loud' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, 'config error: STOA_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal');
    return true;
  });
});
