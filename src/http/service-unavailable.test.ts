import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDatabaseUnavailable, isStorageFull } from './service-unavailable.ts';

const withCode = (message: string, code: string, name = 'Error'): Error => Object.assign(new Error(message), { code, name });

test('a lost or refused database connection is "unavailable"', () => {
  assert.equal(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')), true);
  assert.equal(isDatabaseUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')), true);
  // pg's DatabaseError is named after the protocol message.
  assert.equal(isDatabaseUnavailable(withCode('terminating connection due to administrator command', '57P01', 'error')), true);
  assert.equal(isDatabaseUnavailable(withCode('the database system is starting up', '57P03', 'error')), true);
  assert.equal(isDatabaseUnavailable(withCode('sorry, too many clients already', '53300', 'error')), true);
  assert.equal(isDatabaseUnavailable(new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')])), true);
});

test('bugs and typed errors from elsewhere are not', () => {
  assert.equal(isDatabaseUnavailable(new TypeError('x is undefined')), false);
  assert.equal(isDatabaseUnavailable(withCode('duplicate key value violates unique constraint', '23505', 'error')), false);
  // A federation request failing on a reset socket is the peer's problem, not the database's.
  assert.equal(isDatabaseUnavailable(withCode('peer: socket reset', 'ECONNRESET', 'FederationConnectionError')), false);
  assert.equal(isDatabaseUnavailable('Connection terminated unexpectedly'), false);
});

test('ENOSPC and EDQUOT, also as a cause, are "storage full"', () => {
  assert.equal(isStorageFull(withCode('no space left on device', 'ENOSPC')), true);
  assert.equal(isStorageFull(new Error('upload failed', { cause: withCode('quota', 'EDQUOT') })), true);
  assert.equal(isStorageFull(withCode('permission denied', 'EACCES')), false);
});
