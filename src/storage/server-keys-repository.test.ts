// The remote key cache (server-server API § "Retrieving server keys": verify_keys with
// valid_until_ts, old_verify_keys with expired_ts; notaries re-serve the signed response).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerKeysRepository, type StoredServerKey } from './server-keys-repository.ts';
import { describeEngines } from './testing.ts';

// A server key response in the shape of the spec's example, kept as received text.
const KEY_RESPONSE =
  '{"old_verify_keys":{"ed25519:0ldk3y":{"expired_ts":1532645052628,"key":"VGhpcyBzaG91bGQgYmUgeW91ciBvbGQga2V5J3MgZWQyNTUxOSBwYXlsb2FkLg"}},' +
  '"server_name":"example.org","signatures":{"example.org":{"ed25519:auto2":"VGhpcyBzaG91bGQgYWN0dWFsbHkgYmUgYSBzaWduYXR1cmU"}},' +
  '"valid_until_ts":1652262000000,"verify_keys":{"ed25519:abc123":{"key":"VGhpcyBzaG91bGQgYmUgYSByZWFsIGVkMjU1MTkgcGF5bG9hZA"}}}';

const current: StoredServerKey = {
  serverName: 'example.org',
  keyId: 'ed25519:abc123',
  publicKey: 'VGhpcyBzaG91bGQgYmUgYSByZWFsIGVkMjU1MTkgcGF5bG9hZA',
  validUntilTs: 1_652_262_000_000,
  expiredTs: null,
  fetchedTs: 1_652_000_000_000,
  keyJson: KEY_RESPONSE,
};
const old: StoredServerKey = {
  serverName: 'example.org',
  keyId: 'ed25519:0ldk3y',
  publicKey: 'VGhpcyBzaG91bGQgYmUgeW91ciBvbGQga2V5J3MgZWQyNTUxOSBwYXlsb2FkLg',
  validUntilTs: null,
  expiredTs: 1_532_645_052_628,
  fetchedTs: 1_652_000_000_000,
  keyJson: KEY_RESPONSE,
};

describeEngines('server keys repository', (getDb) => {
  test('stores keys and finds them by server and key id', async () => {
    const repo = new ServerKeysRepository(getDb().kysely);
    await repo.upsert([current, old]);
    assert.deepEqual(await repo.find('example.org', 'ed25519:abc123'), current);
    assert.deepEqual(await repo.find('example.org', 'ed25519:0ldk3y'), old);
    assert.equal(await repo.find('example.org', 'ed25519:missing'), undefined);
    assert.equal(await repo.find('other.example', 'ed25519:abc123'), undefined);
    assert.deepEqual(await repo.findAllForServer('example.org'), [old, current]);
    assert.deepEqual(await repo.findAllForServer('other.example'), []);
    await repo.upsert([]);
  });

  test('a newer fetch replaces the cached key; an older one does not', async () => {
    const repo = new ServerKeysRepository(getDb().kysely);
    const refreshed: StoredServerKey = { ...current, validUntilTs: 1_700_000_000_000, fetchedTs: 1_690_000_000_000, keyJson: '{"refreshed":true}' };
    await repo.upsert([refreshed]);
    assert.deepEqual(await repo.find('example.org', 'ed25519:abc123'), refreshed);

    const stale: StoredServerKey = { ...current, validUntilTs: 1, fetchedTs: 1_600_000_000_000, keyJson: '{"stale":true}' };
    await repo.upsert([stale]);
    assert.deepEqual(await repo.find('example.org', 'ed25519:abc123'), refreshed);
  });
});
