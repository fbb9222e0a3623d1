// End-to-end encryption support over HTTP against a real node (client-server § "End-to-End
// Encryption": key management API, cross-signing, server-side key backups, extensions to
// /sync; § "Send-to-Device messaging"). Every response is checked against the spec's
// OpenAPI, every rejection for its status and errcode.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519KeyPairFromSeed, generateEd25519Seed, type Ed25519KeyPair } from '../src/crypto/ed25519.ts';
import { signableBytes } from '../src/crypto/signed-json.ts';
import { encodeBase64 } from '../src/rooms/base64.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let aliceDeviceKey: Ed25519KeyPair;
let bobDeviceKey: Ed25519KeyPair;

function call(user: RegisteredUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${user.accessToken}` },
    ...(body === undefined ? {} : { body }),
  });
}

function sign(obj: JsonObject, userId: string, keyId: string, key: Ed25519KeyPair): JsonObject {
  const signature = encodeBase64(key.sign(signableBytes(obj)));
  const signatures = (obj['signatures'] ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...signatures, [userId]: { ...(signatures[userId] ?? {}), [keyId]: signature } } };
}

function deviceKeys(user: RegisteredUser, key: Ed25519KeyPair): JsonObject {
  return sign(
    {
      user_id: user.userId,
      device_id: user.deviceId,
      algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
      keys: { [`curve25519:${user.deviceId}`]: encodeBase64(generateEd25519Seed()), [`ed25519:${user.deviceId}`]: encodeBase64(key.publicKey) },
    },
    user.userId,
    `ed25519:${user.deviceId}`,
    key,
  );
}

function crossSigningKey(userId: string, usage: string, key: Ed25519KeyPair): JsonObject {
  const pub = encodeBase64(key.publicKey);
  return { user_id: userId, usage: [usage], keys: { [`ed25519:${pub}`]: pub } };
}

async function sync(user: RegisteredUser, since?: string): Promise<JsonObject> {
  const res = await call(user, 'GET', `/sync?timeout=0${since === undefined ? '' : `&since=${encodeURIComponent(since)}`}`);
  expectSpecResponse(res, 'sync');
  return res.body as JsonObject;
}

before(async () => {
  [node] = (await startNodes(1)) as [TestNode];
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  aliceDeviceKey = ed25519KeyPairFromSeed(generateEd25519Seed());
  bobDeviceKey = ed25519KeyPairFromSeed(generateEd25519Seed());
});

after(async () => {
  await stopNodes(node === undefined ? [] : [node]);
});

describe('key management API (§ "Key management API")', () => {
  test('uploadKeys stores self-signed device keys and one-time keys and counts them', async () => {
    const res = await call(alice, 'POST', '/keys/upload', {
      device_keys: deviceKeys(alice, aliceDeviceKey),
      one_time_keys: Object.fromEntries(
        Array.from({ length: 25 }, (_, i) => [`signed_curve25519:K${String(i).padStart(3, '0')}`, sign({ key: `key${i}` }, alice.userId, `ed25519:${alice.deviceId}`, aliceDeviceKey)]),
      ),
      fallback_keys: { 'signed_curve25519:FB1': sign({ key: 'fallback', fallback: true }, alice.userId, `ed25519:${alice.deviceId}`, aliceDeviceKey) },
    });
    expectSpecResponse(res, 'uploadKeys');
    assert.deepEqual((res.body as JsonObject)['one_time_key_counts'], { signed_curve25519: 25 });
    const bobRes = await call(bob, 'POST', '/keys/upload', { device_keys: deviceKeys(bob, bobDeviceKey) });
    expectSpecResponse(bobRes, 'uploadKeys');
  });

  test('uploadKeys rejects device keys with a bad self-signature (M_INVALID_SIGNATURE)', async () => {
    const forged = { ...deviceKeys(alice, aliceDeviceKey), algorithms: ['m.megolm.v1.aes-sha2'] };
    expectMatrixError(await call(alice, 'POST', '/keys/upload', { device_keys: forged }), 400, 'M_INVALID_SIGNATURE');
  });

  test('uploadKeys rejects device keys for another user or device (M_INVALID_PARAM)', async () => {
    expectMatrixError(await call(bob, 'POST', '/keys/upload', { device_keys: deviceKeys(alice, aliceDeviceKey) }), 400, 'M_INVALID_PARAM');
  });

  test('uploadKeys rejects a one-time key ID reused with different content', async () => {
    const key = sign({ key: 'different' }, alice.userId, `ed25519:${alice.deviceId}`, aliceDeviceKey);
    expectMatrixError(await call(alice, 'POST', '/keys/upload', { one_time_keys: { 'signed_curve25519:K000': key } }), 400, 'M_INVALID_PARAM');
    const unsigned = await call(alice, 'POST', '/keys/upload', { one_time_keys: { 'signed_curve25519:NEW': { key: 'k' } } });
    expectMatrixError(unsigned, 400, 'M_INVALID_PARAM');
  });

  test('queryKeys returns device keys with display names and no failures', async () => {
    const res = await call(bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    expectSpecResponse(res, 'queryKeys');
    const body = res.body as { device_keys: Record<string, Record<string, JsonObject>>; failures: JsonObject };
    const device = body.device_keys[alice.userId]?.[alice.deviceId];
    assert.ok(device, 'alice device present');
    assert.equal(device['device_id'], alice.deviceId);
    assert.deepEqual(body.failures, {});
  });

  test('queryKeys lists an unreachable server in failures', async () => {
    const res = await call(bob, 'POST', '/keys/query', { device_keys: { '@x:unreachable.invalid': [] }, timeout: 2000 });
    expectSpecResponse(res, 'queryKeys');
    assert.ok('unreachable.invalid' in ((res.body as JsonObject)['failures'] as JsonObject));
  });

  test('claimKeys hands out each one-time key exactly once under 20 concurrent claims, then the fallback key', async () => {
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => call(bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } })),
    );
    const ids: string[] = [];
    for (const res of claims) {
      expectSpecResponse(res, 'claimKeys');
      const keys = ((res.body as JsonObject)['one_time_keys'] as Record<string, Record<string, JsonObject>>)[alice.userId]?.[alice.deviceId];
      assert.ok(keys);
      ids.push(...Object.keys(keys));
    }
    assert.equal(new Set(ids).size, 20, 'no key handed out twice');
    // 5 left, then the fallback key, which may be handed out repeatedly.
    for (let i = 0; i < 5; i += 1) await call(bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } });
    const fallback = await call(bob, 'POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } });
    expectSpecResponse(fallback, 'claimKeys');
    const keys = ((fallback.body as JsonObject)['one_time_keys'] as Record<string, Record<string, JsonObject>>)[alice.userId]?.[alice.deviceId];
    assert.deepEqual(Object.keys(keys ?? {}), ['signed_curve25519:FB1']);
    assert.ok(!ids.includes('signed_curve25519:FB1'));
  });

  test('claimKeys never hands out a consumed one-time key again; a device with none left and no fallback key is left out', async () => {
    const upload = await call(bob, 'POST', '/keys/upload', {
      one_time_keys: { 'signed_curve25519:ONLY': sign({ key: 'only' }, bob.userId, `ed25519:${bob.deviceId}`, bobDeviceKey) },
    });
    expectSpecResponse(upload, 'uploadKeys');
    const claim = async (): Promise<JsonObject> => {
      const res = await call(alice, 'POST', '/keys/claim', { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } });
      expectSpecResponse(res, 'claimKeys');
      return (res.body as JsonObject)['one_time_keys'] as JsonObject;
    };
    const first = (await claim()) as Record<string, Record<string, JsonObject>>;
    assert.deepEqual(Object.keys(first[bob.userId]?.[bob.deviceId] ?? {}), ['signed_curve25519:ONLY']);
    assert.deepEqual(await claim(), {}, 'the consumed key is gone and bob has no fallback key');
    const counts = await call(bob, 'POST', '/keys/upload', {});
    assert.deepEqual((counts.body as JsonObject)['one_time_key_counts'], { signed_curve25519: 0 });
  });

  test('/sync reports one-time key counts and unused fallback key types', async () => {
    const body = await sync(alice);
    assert.deepEqual(body['device_one_time_keys_count'], { signed_curve25519: 0 });
    assert.deepEqual(body['device_unused_fallback_key_types'], []);
  });
});

describe('cross-signing (§ "Cross-signing")', () => {
  const master = ed25519KeyPairFromSeed(generateEd25519Seed());
  const selfSigning = ed25519KeyPairFromSeed(generateEd25519Seed());
  const userSigning = ed25519KeyPairFromSeed(generateEd25519Seed());
  const masterId = () => `ed25519:${encodeBase64(master.publicKey)}`;

  test('the first upload needs no user-interactive auth; self-signing keys must be signed by the master key', async () => {
    const masterKey = crossSigningKey(alice.userId, 'master', master);
    const unsigned = crossSigningKey(alice.userId, 'self_signing', selfSigning);
    expectMatrixError(
      await call(alice, 'POST', '/keys/device_signing/upload', { master_key: masterKey, self_signing_key: unsigned }),
      400,
      'M_INVALID_SIGNATURE',
    );
    const res = await call(alice, 'POST', '/keys/device_signing/upload', {
      master_key: masterKey,
      self_signing_key: sign(unsigned, alice.userId, masterId(), master),
      user_signing_key: sign(crossSigningKey(alice.userId, 'user_signing', userSigning), alice.userId, masterId(), master),
    });
    expectSpecResponse(res, 'uploadCrossSigningKeys');
  });

  test('replacing keys needs user-interactive auth (401 with flows)', async () => {
    const other = ed25519KeyPairFromSeed(generateEd25519Seed());
    const res = await call(alice, 'POST', '/keys/device_signing/upload', { master_key: crossSigningKey(alice.userId, 'master', other) });
    assert.equal(res.status, 401);
    assert.ok(Array.isArray((res.body as JsonObject)['flows']));
  });

  test('signatures/upload verifies each signature and reports per-key failures', async () => {
    const selfId = `ed25519:${encodeBase64(selfSigning.publicKey)}`;
    const stored = ((await call(alice, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } })).body as {
      device_keys: Record<string, Record<string, JsonObject>>;
    }).device_keys[alice.userId]?.[alice.deviceId] as JsonObject;
    const { unsigned: _unsigned, ...device } = stored;
    const good = sign(device, alice.userId, selfId, selfSigning);
    const res = await call(alice, 'POST', '/keys/signatures/upload', {
      [alice.userId]: { [alice.deviceId]: good },
      [bob.userId]: { [bob.deviceId]: sign(deviceKeys(bob, bobDeviceKey), alice.userId, selfId, selfSigning) },
    });
    expectSpecResponse(res, 'uploadCrossSigningSignatures');
    const failures = (res.body as JsonObject)['failures'] as Record<string, JsonObject>;
    assert.equal(failures[alice.userId], undefined);
    assert.ok(failures[bob.userId]?.[bob.deviceId]);

    const forged = sign(device, alice.userId, selfId, ed25519KeyPairFromSeed(generateEd25519Seed()));
    const bad = await call(alice, 'POST', '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: forged } });
    expectSpecResponse(bad, 'uploadCrossSigningSignatures');
    assert.equal(((bad.body as JsonObject)['failures'] as Record<string, Record<string, JsonObject>>)[alice.userId]?.[alice.deviceId]?.['errcode'], 'M_INVALID_SIGNATURE');

    const query = await call(alice, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    expectSpecResponse(query, 'queryKeys');
    const body = query.body as Record<string, Record<string, JsonObject>>;
    assert.ok(body['master_keys']?.[alice.userId]);
    assert.ok(body['self_signing_keys']?.[alice.userId]);
    assert.ok(body['user_signing_keys']?.[alice.userId], 'own user-signing key');
    const signatures = (body['device_keys']?.[alice.userId] as Record<string, JsonObject>)[alice.deviceId]?.['signatures'] as Record<string, JsonObject>;
    assert.ok(signatures[alice.userId]?.[selfId], 'the self-signing signature is merged in');
    const asBob = (await call(bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } })).body as Record<string, JsonObject>;
    assert.equal((asBob['user_signing_keys'] as JsonObject)[alice.userId], undefined, 'user-signing keys only for their owner');
  });
});

describe('server-side key backups (§ "Server-side key backups")', () => {
  const keyData = (index: number, verified: boolean) => ({
    first_message_index: index,
    forwarded_count: 0,
    is_verified: verified,
    session_data: { ephemeral: 'e', ciphertext: `c${index}`, mac: 'm' },
  });

  test('writing to a version that is not the current one (older, deleted, unknown): 403 M_WRONG_ROOM_KEYS_VERSION naming the current one', async () => {
    const put = (version: string, path = '/room_keys/keys', body: JsonObject = { rooms: { '!room:x': { sessions: { s: keyData(0, false) } } } }) =>
      call(alice, 'PUT', `${path}?version=${encodeURIComponent(version)}`, body);
    // No backup at all: there is no version to write to.
    expectMatrixError(await put('1'), 404, 'M_NOT_FOUND');
    const create = async (): Promise<string> => {
      const res = await call(alice, 'POST', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'pk' } });
      expectSpecResponse(res, 'postRoomKeysVersion');
      return String((res.body as JsonObject)['version']);
    };
    const old = await create();
    const current = await create();
    const wrong = async (res: Promise<HttpResponse>): Promise<void> => {
      const answer = await res;
      expectMatrixError(answer, 403, 'M_WRONG_ROOM_KEYS_VERSION');
      assert.equal((answer.body as JsonObject)['current_version'], current);
    };
    await wrong(put(old));
    await wrong(put(old, '/room_keys/keys/!room:x', { sessions: { s: keyData(0, false) } }));
    await wrong(put(old, '/room_keys/keys/!room:x/s', keyData(0, false)));
    expectSpecResponse(await call(alice, 'DELETE', `/room_keys/version/${old}`), 'deleteRoomKeysVersion');
    await wrong(put(old));
    await wrong(put('987654321'));
    await wrong(put('not-a-version'));
    expectMatrixError(await call(alice, 'PUT', '/room_keys/keys', { rooms: {} }), 400, 'M_MISSING_PARAM');
    const ok = await put(current);
    expectSpecResponse(ok, 'putRoomKeys');
    assert.equal((ok.body as JsonObject)['count'], 1);
  });

  test('versions: create, get current, update, delete; keys with etag and count; M_WRONG_ROOM_KEYS_VERSION', async () => {
    expectMatrixError(await call(bob, 'GET', '/room_keys/version'), 404, 'M_NOT_FOUND');
    const created = await call(bob, 'POST', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'abc' } });
    expectSpecResponse(created, 'postRoomKeysVersion');
    const version = (created.body as JsonObject)['version'] as string;
    const current = await call(bob, 'GET', '/room_keys/version');
    expectSpecResponse(current, 'getRoomKeysVersionCurrent');
    assert.equal((current.body as JsonObject)['version'], version);
    assert.equal((current.body as JsonObject)['count'], 0);

    const put = await call(bob, 'PUT', `/room_keys/keys/!room:x/sess1?version=${version}`, keyData(5, false));
    expectSpecResponse(put, 'putRoomKeyBySessionId');
    assert.equal((put.body as JsonObject)['count'], 1);
    const etag1 = (put.body as JsonObject)['etag'];
    // A worse key (higher first_message_index) does not replace the stored one.
    const worse = await call(bob, 'PUT', `/room_keys/keys/!room:x?version=${version}`, { sessions: { sess1: keyData(9, false) } });
    expectSpecResponse(worse, 'putRoomKeysByRoomId');
    assert.equal((worse.body as JsonObject)['etag'], etag1);
    const better = await call(bob, 'PUT', `/room_keys/keys?version=${version}`, { rooms: { '!room:x': { sessions: { sess1: keyData(1, false), sess2: keyData(0, true) } } } });
    expectSpecResponse(better, 'putRoomKeys');
    assert.equal((better.body as JsonObject)['count'], 2);
    assert.notEqual((better.body as JsonObject)['etag'], etag1);

    const one = await call(bob, 'GET', `/room_keys/keys/!room:x/sess1?version=${version}`);
    expectSpecResponse(one, 'getRoomKeyBySessionId');
    assert.equal((one.body as JsonObject)['first_message_index'], 1);
    expectSpecResponse(await call(bob, 'GET', `/room_keys/keys/!room:x?version=${version}`), 'getRoomKeysByRoomId');
    expectSpecResponse(await call(bob, 'GET', `/room_keys/keys?version=${version}`), 'getRoomKeys');
    expectMatrixError(await call(bob, 'GET', `/room_keys/keys/!room:x/nope?version=${version}`), 404, 'M_NOT_FOUND');

    const update = await call(bob, 'PUT', `/room_keys/version/${version}`, { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'def' } });
    expectSpecResponse(update, 'putRoomKeysVersion');
    const got = await call(bob, 'GET', `/room_keys/version/${version}`);
    expectSpecResponse(got, 'getRoomKeysVersion');
    assert.deepEqual((got.body as JsonObject)['auth_data'], { public_key: 'def' });

    const second = await call(bob, 'POST', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'ghi' } });
    const wrong = await call(bob, 'PUT', `/room_keys/keys/!room:x/sess3?version=${version}`, keyData(0, false));
    expectMatrixError(wrong, 403, 'M_WRONG_ROOM_KEYS_VERSION');
    assert.equal((wrong.body as JsonObject)['current_version'], (second.body as JsonObject)['version']);

    const delOne = await call(bob, 'DELETE', `/room_keys/keys/!room:x/sess1?version=${version}`);
    expectSpecResponse(delOne, 'deleteRoomKeyBySessionId');
    assert.equal((delOne.body as JsonObject)['count'], 1);
    expectSpecResponse(await call(bob, 'DELETE', `/room_keys/keys/!room:x?version=${version}`), 'deleteRoomKeysByRoomId');
    expectSpecResponse(await call(bob, 'DELETE', `/room_keys/keys?version=${version}`), 'deleteRoomKeys');
    expectSpecResponse(await call(bob, 'DELETE', `/room_keys/version/${version}`), 'deleteRoomKeysVersion');
    expectMatrixError(await call(bob, 'GET', `/room_keys/version/${version}`), 404, 'M_NOT_FOUND');
  });
});

describe('send-to-device (§ "Send-to-Device messaging") and device lists in /sync', () => {
  test('a to-device message is delivered once, idempotent by txnId, and deleted once acknowledged', async () => {
    const initial = await sync(bob);
    const since = initial['next_batch'] as string;
    const body = { messages: { [bob.userId]: { [bob.deviceId]: { hello: 'world' } } } };
    const sent = await call(alice, 'PUT', '/sendToDevice/m.test/txn1', body);
    expectSpecResponse(sent, 'sendToDevice');
    expectSpecResponse(await call(alice, 'PUT', '/sendToDevice/m.test/txn1', body), 'sendToDevice');
    const next = await sync(bob, since);
    const events = ((next['to_device'] as JsonObject | undefined)?.['events'] ?? []) as JsonObject[];
    assert.deepEqual(events, [{ sender: alice.userId, type: 'm.test', content: { hello: 'world' } }]);
    // Syncing again from the same token repeats it (not yet acknowledged) ...
    const again = await sync(bob, since);
    assert.equal((((again['to_device'] as JsonObject | undefined)?.['events'] ?? []) as JsonObject[]).length, 1);
    // ... and from the new token it is gone.
    const after = await sync(bob, next['next_batch'] as string);
    assert.equal(after['to_device'], undefined);
    const afterAgain = await sync(bob, since);
    assert.equal(afterAgain['to_device'], undefined, 'deleted once acknowledged');
  });

  test('device_lists.changed lists a room member whose keys changed, and /keys/changes agrees', async () => {
    const created = await call(alice, 'POST', '/createRoom', { invite: [bob.userId] });
    const roomId = (created.body as JsonObject)['room_id'] as string;
    await call(bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    const since = (await sync(bob))['next_batch'] as string;
    const newKey = ed25519KeyPairFromSeed(generateEd25519Seed());
    await call(alice, 'POST', '/keys/upload', { device_keys: deviceKeys(alice, newKey) });
    const next = await sync(bob, since);
    assert.ok(((next['device_lists'] as JsonObject | undefined)?.['changed'] as string[] | undefined)?.includes(alice.userId));
    const changes = await call(bob, 'GET', `/keys/changes?from=${encodeURIComponent(since)}&to=${encodeURIComponent(next['next_batch'] as string)}`);
    expectSpecResponse(changes, 'getKeysChanges');
    assert.ok(((changes.body as JsonObject)['changed'] as string[]).includes(alice.userId));

    await call(alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {});
    const left = await sync(bob, next['next_batch'] as string);
    assert.ok(((left['device_lists'] as JsonObject | undefined)?.['left'] as string[] | undefined)?.includes(alice.userId));
  });
});
