// server-server § "End-to-End Encryption" (POST /user/keys/query, /user/keys/claim) and
// § "Device Management" (GET /user/devices/{userId}) against a real database. The response
// shapes are checked against the spec's OpenAPI in spec-tests/e2ee-federation.test.ts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApp, type RunningApp } from '../../../http/testing.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { AccountsRepository } from '../../../storage/accounts-repository.ts';
import { DevicesRepository } from '../../../storage/devices-repository.ts';
import { E2eeDeviceListsRepository } from '../../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeysRepository } from '../../../storage/e2ee-keys-repository.ts';
import { describeEngines } from '../../../storage/testing.ts';
import { e2eeFederationEndpoints } from './index.ts';

const LOCAL = 'stoa.test';
const alice = `@alice:${LOCAL}`;
const remoteUser = '@zed:remote.test';

function deviceKeys(userId: string, deviceId: string): JsonObject {
  return {
    user_id: userId,
    device_id: deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: { [`curve25519:${deviceId}`]: 'curve', [`ed25519:${deviceId}`]: 'ed' },
    signatures: { [userId]: { [`ed25519:${deviceId}`]: 'sig' } },
  };
}

describeEngines('federation E2EE endpoints', (getDb) => {
  let app: RunningApp;
  let streamId: number;

  before(async () => {
    const db = getDb();
    await new AccountsRepository(db.kysely).createUser({ userId: alice, passwordHash: null, createdTs: 1 });
    const devices = new DevicesRepository(db.kysely);
    await devices.createIfAbsent({ userId: alice, deviceId: 'PHONE', displayName: 'Alice phone', createdTs: 1 });
    await devices.createIfAbsent({ userId: alice, deviceId: 'LAPTOP', displayName: null, createdTs: 1 });
    await devices.createIfAbsent({ userId: alice, deviceId: 'NOKEYS', displayName: null, createdTs: 1 });
    const keys = new E2eeKeysRepository(db.kysely);
    await keys.setDeviceKeys(alice, 'PHONE', JSON.stringify(deviceKeys(alice, 'PHONE')), 1);
    await keys.setDeviceKeys(alice, 'LAPTOP', JSON.stringify(deviceKeys(alice, 'LAPTOP')), 1);
    await keys.addOneTimeKeys(alice, 'PHONE', [{ algorithm: 'signed_curve25519', keyId: 'OTK1', keyJson: JSON.stringify({ key: 'one' }) }], 1);
    await keys.setFallbackKey(alice, 'PHONE', { algorithm: 'signed_curve25519', keyId: 'FB', keyJson: JSON.stringify({ key: 'fb', fallback: true }) });
    await keys.setCrossSigningKeys(alice, [{ keyType: 'master', publicKey: 'MPUB', keyJson: JSON.stringify({ user_id: alice, usage: ['master'], keys: { 'ed25519:MPUB': 'MPUB' } }) }], 1);
    await keys.setCrossSigningKeys(alice, [{ keyType: 'user_signing', publicKey: 'UPUB', keyJson: JSON.stringify({ user_id: alice, usage: ['user_signing'], keys: { 'ed25519:UPUB': 'UPUB' } }) }], 1);
    streamId = await new E2eeDeviceListsRepository(db.kysely).appendChanges([alice], 1);
    app = await startApp({
      endpoints: e2eeFederationEndpoints({ serverName: LOCAL, db }),
      listener: 'federation',
      federationAuth: { authenticate: () => Promise.resolve({ serverName: 'remote.test' }) },
    });
  });
  after(() => app?.close());

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonObject }> => {
    const res = await fetch(`${app.url}/_matrix/federation/v1${path}`, {
      method,
      headers: { authorization: 'X-Matrix origin="remote.test",key="ed25519:a",sig="s"', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as JsonObject };
  };

  test('POST /user/keys/query answers for local users only, without user-signing keys', async () => {
    const res = await call('POST', '/user/keys/query', { device_keys: { [alice]: [], [remoteUser]: [] } });
    assert.equal(res.status, 200);
    const devices = (res.body['device_keys'] as Record<string, Record<string, JsonObject>>)[alice] ?? {};
    assert.deepEqual(Object.keys(devices).sort(), ['LAPTOP', 'PHONE']);
    assert.deepEqual(devices['PHONE']?.['unsigned'], { device_display_name: 'Alice phone' });
    assert.equal((res.body['device_keys'] as JsonObject)[remoteUser], undefined, 'a server speaks for its own users');
    assert.deepEqual(Object.keys(res.body['master_keys'] as JsonObject), [alice]);
    assert.equal(res.body['user_signing_keys'], undefined);

    const one = await call('POST', '/user/keys/query', { device_keys: { [alice]: ['LAPTOP'] } });
    assert.deepEqual(Object.keys((one.body['device_keys'] as Record<string, JsonObject>)[alice] ?? {}), ['LAPTOP']);
  });

  test('POST /user/keys/claim hands out the one-time key once, then the fallback key', async () => {
    const body = { one_time_keys: { [alice]: { PHONE: 'signed_curve25519', NOKEYS: 'signed_curve25519' }, [remoteUser]: { X: 'signed_curve25519' } } };
    const first = await call('POST', '/user/keys/claim', body);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { one_time_keys: { [alice]: { PHONE: { 'signed_curve25519:OTK1': { key: 'one' } } } } });
    const second = await call('POST', '/user/keys/claim', body);
    assert.deepEqual(second.body, { one_time_keys: { [alice]: { PHONE: { 'signed_curve25519:FB': { key: 'fb', fallback: true } } } } });
  });

  test('GET /user/devices/{userId}: the devices with keys, display names, master key and stream position', async () => {
    const res = await call('GET', `/user/devices/${encodeURIComponent(alice)}`);
    assert.equal(res.status, 200);
    assert.equal(res.body['user_id'], alice);
    assert.equal(res.body['stream_id'], streamId);
    assert.deepEqual(res.body['devices'], [
      { device_id: 'LAPTOP', keys: deviceKeys(alice, 'LAPTOP') },
      { device_id: 'PHONE', keys: deviceKeys(alice, 'PHONE'), device_display_name: 'Alice phone' },
    ]);
    assert.equal((res.body['master_key'] as JsonObject)['user_id'], alice);
    assert.equal(res.body['self_signing_key'], undefined);
  });

  test('GET /user/devices for a user we do not know: an empty list at stream position 0', async () => {
    const res = await call('GET', `/user/devices/${encodeURIComponent(`@nobody:${LOCAL}`)}`);
    assert.deepEqual(res.body, { user_id: `@nobody:${LOCAL}`, stream_id: 0, devices: [] });
  });

  test('bad requests get spec errors, never a 500', async () => {
    const notOurs = await call('GET', `/user/devices/${encodeURIComponent(remoteUser)}`);
    assert.equal(notOurs.status, 400);
    assert.equal(notOurs.body['errcode'], 'M_INVALID_PARAM');
    const notAUser = await call('GET', '/user/devices/nonsense');
    assert.equal(notAUser.status, 400);
    for (const [path, body] of [
      ['/user/keys/query', {}],
      ['/user/keys/query', { device_keys: { [alice]: 'all' } }],
      ['/user/keys/claim', { one_time_keys: { [alice]: { PHONE: 5 } } }],
    ] as const) {
      const res = await call('POST', path, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(res.body['errcode'], 'M_BAD_JSON');
    }
    // A body that is JSON but not an object is refused by the HTTP layer before validation.
    const array = await call('POST', '/user/keys/claim', []);
    assert.equal(array.status, 400);
    assert.equal(array.body['errcode'], 'M_NOT_JSON');
  });
});
