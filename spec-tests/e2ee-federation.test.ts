// End-to-end encryption across two real Stoa nodes federating over HTTPS, driven through the
// Client-Server API: alice on A and bob on B share a room (bob joins A's room). Spec:
// server-server § "End-to-End Encryption" (/user/keys/query, /user/keys/claim,
// m.signing_key_update), § "Device Management" (m.device_list_update, /user/devices),
// § "Send-to-device messaging" (m.direct_to_device); client-server § "Key management API",
// § "Tracking the device list for a user", § "Send-to-Device messaging".
//
// The tests run in order and share the nodes, the room and bob's keys.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519KeyPairFromSeed, generateEd25519Seed, type Ed25519KeyPair } from '../src/crypto/ed25519.ts';
import { signableBytes } from '../src/crypto/signed-json.ts';
import { encodeBase64 } from '../src/rooms/base64.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { SigningPeer } from './rig/key-server.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

interface Session {
  readonly node: TestNode;
  readonly userId: string;
  readonly deviceId: string;
  readonly accessToken: string;
}

function call(session: Session, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${session.node.clientUrl}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${session.accessToken}` },
    ...(body === undefined ? {} : { body }),
  });
}

async function ok(session: Session, method: string, path: string, body?: unknown): Promise<JsonObject> {
  const res = await call(session, method, path, body);
  assert.equal(res.status, 200, `${session.userId}: ${method} ${path} answered ${res.status} ${res.text}`);
  return res.body as JsonObject;
}

const enc = encodeURIComponent;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function sign(obj: JsonObject, userId: string, keyId: string, key: Ed25519KeyPair): JsonObject {
  const { signatures: existing, unsigned: _unsigned, ...signable } = obj;
  const signature = encodeBase64(key.sign(signableBytes(signable)));
  const signatures = (existing ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...signatures, [userId]: { ...(signatures[userId] ?? {}), [keyId]: signature } } };
}

function deviceKeysOf(session: Session, key: Ed25519KeyPair): JsonObject {
  return sign(
    {
      user_id: session.userId,
      device_id: session.deviceId,
      algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
      keys: { [`curve25519:${session.deviceId}`]: encodeBase64(generateEd25519Seed()), [`ed25519:${session.deviceId}`]: encodeBase64(key.publicKey) },
    },
    session.userId,
    `ed25519:${session.deviceId}`,
    key,
  );
}

function withoutUnsigned(keys: unknown): unknown {
  const { unsigned: _unsigned, ...rest } = keys as Record<string, unknown>;
  return rest;
}

/** Syncs `session` from `since` until `done` says the collected responses suffice. */
async function syncUntil(session: Session, since: string, what: string, done: (responses: JsonObject[]) => boolean): Promise<JsonObject[]> {
  const responses: JsonObject[] = [];
  let token = since;
  return eventually(what, async () => {
    const res = await call(session, 'GET', `/sync?timeout=1000&since=${enc(token)}`);
    expectSpecResponse(res, 'sync');
    const body = res.body as JsonObject;
    responses.push(body);
    token = String(body['next_batch']);
    return done(responses) ? responses : undefined;
  });
}

async function nextBatch(session: Session): Promise<string> {
  return String((await ok(session, 'GET', '/sync?timeout=0'))['next_batch']);
}

/** A new device of `user` on `node` (POST /login with the password). */
async function newDevice(node: TestNode, user: RegisteredUser): Promise<Session> {
  const login = await request(`${node.clientUrl}/_matrix/client/v3/login`, {
    method: 'POST',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: user.password },
  });
  assert.equal(login.status, 200, login.text);
  const body = login.body as JsonObject;
  return { node, userId: user.userId, deviceId: String(body['device_id']), accessToken: String(body['access_token']) };
}

/** The device IDs in a /keys/query answer for `userId`. */
function queriedDevices(body: JsonObject, userId: string): string[] {
  return Object.keys((body['device_keys'] as Record<string, JsonObject>)[userId] ?? {}).sort();
}

function changedIn(responses: readonly JsonObject[]): string[] {
  return responses.flatMap((r) => ((r['device_lists'] as { changed?: string[] } | undefined)?.changed ?? []));
}

describe('end-to-end encryption across two Stoa nodes (alice on A, bob on B)', () => {
  let nodes: TestNode[] = [];
  let alice: Session;
  let bob: Session;
  let aliceRegistered: RegisteredUser;
  let bobRegistered: RegisteredUser;
  let bobKeys: JsonObject;
  const bobDeviceKey = ed25519KeyPairFromSeed(generateEd25519Seed());
  const otkIds = ['AAAA', 'AAAB'];

  before(async () => {
    nodes = await startNodes(2, { tls: true, startTimeoutMs: 180_000 });
    const [a, b] = nodes as [TestNode, TestNode];
    aliceRegistered = await registerUser(a, 'alice');
    bobRegistered = await registerUser(b, 'bob');
    alice = { node: a, ...aliceRegistered };
    bob = { node: b, ...bobRegistered };
    const roomId = String((await ok(alice, 'POST', '/createRoom', { preset: 'public_chat', name: 'e2ee across sites' }))['room_id']);
    await ok(bob, 'POST', `/join/${enc(roomId)}?server_name=${enc(a.serverName)}`, {});
    await eventually('alice to see bob in the room', async () => {
      const res = await call(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`);
      return res.status === 200 && (res.body as JsonObject)['membership'] === 'join' ? true : undefined;
    });
  });

  after(async () => {
    await stopNodes(nodes);
  });

  test("bob's upload puts bob in alice's device_lists.changed, and alice's /keys/query fetches bob's keys from B", async () => {
    const since = await nextBatch(alice);
    bobKeys = deviceKeysOf(bob, bobDeviceKey);
    const upload = await call(bob, 'POST', '/keys/upload', {
      device_keys: bobKeys,
      one_time_keys: Object.fromEntries(otkIds.map((id) => [`signed_curve25519:${id}`, sign({ key: `otk-${id}` }, bob.userId, `ed25519:${bob.deviceId}`, bobDeviceKey)])),
      fallback_keys: { 'signed_curve25519:FB': sign({ key: 'fallback', fallback: true }, bob.userId, `ed25519:${bob.deviceId}`, bobDeviceKey) },
    });
    expectSpecResponse(upload, 'uploadKeys');

    await syncUntil(alice, since, "bob in alice's device_lists.changed", (responses) => changedIn(responses).includes(bob.userId));

    const query = await call(alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    expectSpecResponse(query, 'queryKeys');
    const body = query.body as { device_keys: Record<string, Record<string, unknown>>; failures: JsonObject };
    assert.deepEqual(body.failures, {});
    assert.deepEqual(Object.keys(body.device_keys[bob.userId] ?? {}), [bob.deviceId]);
    assert.deepEqual(withoutUnsigned(body.device_keys[bob.userId]?.[bob.deviceId]), bobKeys);
  });

  test("/keys/claim over federation hands out each of bob's one-time keys once, then his fallback key", async () => {
    const claimed: string[] = [];
    for (let i = 0; i < otkIds.length + 1; i++) {
      const res = await call(alice, 'POST', '/keys/claim', { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } });
      expectSpecResponse(res, 'claimKeys');
      const body = res.body as { one_time_keys: Record<string, Record<string, Record<string, JsonObject>>>; failures: JsonObject };
      assert.deepEqual(body.failures, {});
      const keys = body.one_time_keys[bob.userId]?.[bob.deviceId] ?? {};
      assert.equal(Object.keys(keys).length, 1);
      claimed.push(...Object.keys(keys));
    }
    assert.deepEqual(claimed.slice(0, otkIds.length).sort(), otkIds.map((id) => `signed_curve25519:${id}`));
    assert.equal(claimed.at(-1), 'signed_curve25519:FB');
    const counts = await ok(bob, 'POST', '/keys/upload', {});
    assert.deepEqual(counts['one_time_key_counts'], { signed_curve25519: 0 });
  });

  test("to-device messages from alice reach bob's /sync once each, by device ID and by `*`", async () => {
    const since = await nextBatch(bob);
    const message = { messages: { [bob.userId]: { [bob.deviceId]: { n: 1 } } } };
    await ok(alice, 'PUT', '/sendToDevice/m.stoa.test/txn-1', message);
    await ok(alice, 'PUT', '/sendToDevice/m.stoa.test/txn-1', message); // a client retry
    await ok(alice, 'PUT', '/sendToDevice/m.stoa.test/txn-2', { messages: { [bob.userId]: { '*': { n: 2 } } } });
    const toDevice = (responses: readonly JsonObject[]) =>
      responses.flatMap((r) => ((r['to_device'] as { events?: JsonObject[] } | undefined)?.events ?? []));
    const responses = await syncUntil(bob, since, 'both to-device messages', (rs) => toDevice(rs).some((e) => (e['content'] as JsonObject)['n'] === 2));
    // One more sync: nothing else is on its way.
    const last = String(responses.at(-1)?.['next_batch']);
    const extra = await call(bob, 'GET', `/sync?timeout=500&since=${enc(last)}`);
    assert.deepEqual(
      [...toDevice(responses), ...toDevice([extra.body as JsonObject])].map((e) => [e['sender'], e['type'], e['content']]),
      [
        [alice.userId, 'm.stoa.test', { n: 1 }],
        [alice.userId, 'm.stoa.test', { n: 2 }],
      ],
    );
  });

  test("bob's second device shows up for alice: device_lists.changed, /keys/changes, /keys/query", async () => {
    const since = await nextBatch(alice);
    const login = await request(`${bob.node.clientUrl}/_matrix/client/v3/login`, {
      method: 'POST',
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: bobRegistered.password, initial_device_display_name: 'bob laptop' },
    });
    assert.equal(login.status, 200, login.text);
    const laptop: Session = { node: bob.node, userId: bob.userId, deviceId: String((login.body as JsonObject)['device_id']), accessToken: String((login.body as JsonObject)['access_token']) };
    const laptopKeys = deviceKeysOf(laptop, ed25519KeyPairFromSeed(generateEd25519Seed()));
    await ok(laptop, 'POST', '/keys/upload', { device_keys: laptopKeys });

    const responses = await syncUntil(alice, since, "bob in alice's device_lists.changed again", (rs) => changedIn(rs).includes(bob.userId));
    const to = String(responses.at(-1)?.['next_batch']);
    const changes = await call(alice, 'GET', `/keys/changes?from=${enc(since)}&to=${enc(to)}`);
    expectSpecResponse(changes, 'getKeysChanges');
    assert.ok(((changes.body as { changed: string[] }).changed).includes(bob.userId));

    const query = await ok(alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    const devices = (query['device_keys'] as Record<string, Record<string, JsonObject>>)[bob.userId] ?? {};
    assert.deepEqual(Object.keys(devices).sort(), [bob.deviceId, laptop.deviceId].sort());
    assert.deepEqual(withoutUnsigned(devices[laptop.deviceId]), laptopKeys);
    assert.equal((devices[laptop.deviceId]?.['unsigned'] as JsonObject | undefined)?.['device_display_name'], 'bob laptop');
  });

  test("bob's cross-signing keys: alice hears of them (m.signing_key_update) and /keys/query returns them", async () => {
    const since = await nextBatch(alice);
    const master = ed25519KeyPairFromSeed(generateEd25519Seed());
    const selfSigning = ed25519KeyPairFromSeed(generateEd25519Seed());
    const masterPub = encodeBase64(master.publicKey);
    const sskPub = encodeBase64(selfSigning.publicKey);
    const masterKey = { user_id: bob.userId, usage: ['master'], keys: { [`ed25519:${masterPub}`]: masterPub } };
    const sskKey = sign({ user_id: bob.userId, usage: ['self_signing'], keys: { [`ed25519:${sskPub}`]: sskPub } }, bob.userId, `ed25519:${masterPub}`, master);
    await ok(bob, 'POST', '/keys/device_signing/upload', { master_key: masterKey, self_signing_key: sskKey });

    await syncUntil(alice, since, "bob in alice's device_lists.changed after his cross-signing upload", (rs) => changedIn(rs).includes(bob.userId));
    const query = await call(alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    expectSpecResponse(query, 'queryKeys');
    const body = query.body as JsonObject;
    assert.deepEqual((body['master_keys'] as JsonObject)[bob.userId], masterKey);
    assert.deepEqual((body['self_signing_keys'] as JsonObject)[bob.userId], sskKey);
  });

  test('the server-server endpoints answer in the shapes of user_keys.yaml and user_devices.yaml', async () => {
    const peer = await SigningPeer.start();
    try {
      const b = bob.node;
      const devices = await peer.request(b, 'GET', `/_matrix/federation/v1/user/devices/${enc(bob.userId)}`);
      expectSpecResponse(devices, 'server-server:getUserDevices');
      const list = devices.body as { user_id: string; stream_id: number; devices: Array<{ device_id: string }>; master_key?: JsonObject };
      assert.equal(list.user_id, bob.userId);
      assert.ok(list.stream_id > 0);
      assert.ok(list.devices.some((d) => d.device_id === bob.deviceId));
      assert.ok(list.master_key !== undefined);

      const query = await peer.request(b, 'POST', '/_matrix/federation/v1/user/keys/query', { device_keys: { [bob.userId]: [bob.deviceId] } });
      expectSpecResponse(query, 'server-server:queryUserEncryptionKeys');
      assert.deepEqual(Object.keys((query.body as { device_keys: Record<string, JsonObject> }).device_keys[bob.userId] ?? {}), [bob.deviceId]);

      // Only the fallback key is left; a claim still answers in the spec's shape.
      const claim = await peer.request(b, 'POST', '/_matrix/federation/v1/user/keys/claim', { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } });
      expectSpecResponse(claim, 'server-server:claimUserEncryptionKeys');
      assert.deepEqual(Object.keys((claim.body as { one_time_keys: Record<string, Record<string, JsonObject>> }).one_time_keys[bob.userId]?.[bob.deviceId] ?? {}), ['signed_curve25519:FB']);
    } finally {
      await peer.close();
    }
  });

  test('server-server § "Device Management": a user newly sharing a room is known both ways; a rejoin after leaving fetches the list afresh', async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    const aliceKeys = deviceKeysOf(alice, ed25519KeyPairFromSeed(generateEd25519Seed()));
    await ok(alice, 'POST', '/keys/upload', { device_keys: aliceKeys });
    // carol on B has keys before she shares any room with anyone on A.
    const carolRegistered = await registerUser(b, 'carol');
    const carol: Session = { node: b, ...carolRegistered };
    await ok(carol, 'POST', '/keys/upload', { device_keys: deviceKeysOf(carol, ed25519KeyPairFromSeed(generateEd25519Seed())) });
    const roomId = String((await ok(alice, 'POST', '/createRoom', { preset: 'public_chat', name: 'carol joins' }))['room_id']);
    const aliceSince = await nextBatch(alice);
    const carolSince = await nextBatch(carol);
    const join = () => ok(carol, 'POST', `/join/${enc(roomId)}?server_name=${enc(a.serverName)}`, {});
    await join();

    // Both sides list the other in device_lists.changed and get the keys.
    await syncUntil(alice, aliceSince, "carol in alice's device_lists.changed", (rs) => changedIn(rs).includes(carol.userId));
    const carolKeys = await call(alice, 'POST', '/keys/query', { device_keys: { [carol.userId]: [] } });
    expectSpecResponse(carolKeys, 'queryKeys');
    assert.deepEqual((carolKeys.body as JsonObject)['failures'], {});
    assert.deepEqual(queriedDevices(carolKeys.body as JsonObject, carol.userId), [carol.deviceId]);
    await syncUntil(carol, carolSince, "alice in carol's device_lists.changed", (rs) => changedIn(rs).includes(alice.userId));
    const aliceKeysOnB = await ok(carol, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    assert.deepEqual(withoutUnsigned((aliceKeysOnB['device_keys'] as Record<string, JsonObject>)[alice.userId]?.[alice.deviceId]), aliceKeys);

    // A change of alice's devices now reaches B (m.device_list_update) and carol.
    const carolSince2 = await nextBatch(carol);
    const alice2 = await newDevice(a, aliceRegistered);
    await ok(alice2, 'POST', '/keys/upload', { device_keys: deviceKeysOf(alice2, ed25519KeyPairFromSeed(generateEd25519Seed())) });
    await syncUntil(carol, carolSince2, "alice in carol's device_lists.changed after her new device", (rs) => changedIn(rs).includes(alice.userId));
    const both = await ok(carol, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
    assert.deepEqual(queriedDevices(both, alice.userId), [alice.deviceId, alice2.deviceId].sort());

    // carol leaves; her new device is then none of A's business (B sends A no update).
    await ok(carol, 'POST', `/rooms/${enc(roomId)}/leave`, {});
    await eventually('alice to see carol leave', async () => {
      const res = await call(alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(carol.userId)}`);
      return res.status === 200 && (res.body as JsonObject)['membership'] === 'leave' ? true : undefined;
    });
    const carol2 = await newDevice(b, carolRegistered);
    await ok(carol2, 'POST', '/keys/upload', { device_keys: deviceKeysOf(carol2, ed25519KeyPairFromSeed(generateEd25519Seed())) });
    // When she is back, A must not answer from the list it had before.
    const aliceSince2 = await nextBatch(alice);
    await join();
    await syncUntil(alice, aliceSince2, "carol in alice's device_lists.changed after her rejoin", (rs) => changedIn(rs).includes(carol.userId));
    const again = await ok(alice, 'POST', '/keys/query', { device_keys: { [carol.userId]: [] } });
    assert.deepEqual(queriedDevices(again, carol.userId), [carol.deviceId, carol2.deviceId].sort());
  });

  // Last: it takes B down.
  test('server-server § "Device Management": with B down, A answers for the B users it tracks from its cache; others are failures', async () => {
    const b = nodes[1]!;
    await b.halt();
    const stranger = `@stranger:${b.serverName}`;
    const res = await call(alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [], [stranger]: [] }, timeout: 5000 });
    expectSpecResponse(res, 'queryKeys');
    const body = res.body as JsonObject;
    assert.ok(queriedDevices(body, bob.userId).includes(bob.deviceId), "bob's devices come from A's cache");
    assert.ok((body['master_keys'] as JsonObject)[bob.userId] !== undefined, "and so does bob's master key");
    assert.ok((body['failures'] as JsonObject)[b.serverName] !== undefined, 'a user A does not track needs B, which is down');
    assert.equal((body['device_keys'] as JsonObject)[stranger], undefined);
  });
});
