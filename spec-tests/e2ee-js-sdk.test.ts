// End-to-end encryption with a real client: matrix-js-sdk with its Rust crypto
// (@matrix-org/matrix-sdk-crypto-wasm) in Node. Alice and Bob, each on their own device,
// share an encrypted room (m.room.encryption, m.megolm.v1.aes-sha2) on one Stoa node; each
// sends a message and the other decrypts it. This needs the whole chain the spec describes:
// /keys/upload (device and one-time keys), /keys/query (device lists), /keys/claim (Olm
// sessions), /sendToDevice (the Megolm room keys, m.room.encrypted to-device messages),
// /sync `to_device`, `device_lists` and `device_one_time_keys_count`.
//
// Spec sections: client-server-api § "End-to-End Encryption" (Key management API,
// Extensions to /sync, Messaging Algorithms m.olm.v1 / m.megolm.v1), § "Send-to-Device
// messaging".

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as sdk from 'matrix-js-sdk';
import { cryptoClient, decryptedBodies, until } from './rig/js-sdk.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { registerUser } from './rig/users.ts';

describe('matrix-js-sdk with Rust crypto: encrypted room on one node', { timeout: 180_000 }, () => {
  let node: TestNode;
  let alice: sdk.MatrixClient;
  let bob: sdk.MatrixClient;
  let roomId: string;

  before(async () => {
    [node] = (await startNodes(1)) as [TestNode];
    const aliceUser = await registerUser(node, 'alice');
    const bobUser = await registerUser(node, 'bob');
    alice = await cryptoClient(node, aliceUser, 'alice');
    bob = await cryptoClient(node, bobUser, 'bob');
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await stopNodes(node === undefined ? [] : [node]);
  });

  test('both devices have published their keys (keys/upload, keys/query)', async () => {
    const keys = await alice.getCrypto()!.getUserDeviceInfo([bob.getUserId()!], true);
    assert.ok(keys.get(bob.getUserId()!)?.has(bob.getDeviceId()!), "alice sees bob's device");
  });

  test('alice and bob join an encrypted room', async () => {
    const created = await alice.createRoom({
      invite: [bob.getUserId()!],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    roomId = created.room_id;
    await until('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === 'invite');
    await bob.joinRoom(roomId);
    await until("alice to see bob's join", () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join');
    await until('both to know the room is encrypted', () => alice.isRoomEncrypted(roomId) && bob.isRoomEncrypted(roomId));
  });

  test("bob decrypts alice's message", async () => {
    await alice.sendTextMessage(roomId, 'hello bob, this is secret');
    await until("bob to decrypt alice's message", () => decryptedBodies(bob, roomId).includes('hello bob, this is secret'));
  });

  test("alice decrypts bob's reply", async () => {
    await bob.sendTextMessage(roomId, 'hello alice, secret received');
    await until("alice to decrypt bob's message", () => decryptedBodies(alice, roomId).includes('hello alice, secret received'));
  });
});

// The same over federation (issue 6's headline case): alice on A, bob on B. Bob's device keys
// reach alice through /user/keys/query, her Olm sessions need /user/keys/claim on B, the
// Megolm room keys travel as m.direct_to_device EDUs, and each side learns of the other's
// devices through m.device_list_update. Server-server § "End-to-End Encryption", § "Device
// Management", § "Send-to-device messaging".
describe('matrix-js-sdk with Rust crypto: encrypted room across two federating nodes', { timeout: 300_000 }, () => {
  let nodes: TestNode[] = [];
  let alice: sdk.MatrixClient;
  let bob: sdk.MatrixClient;
  let roomId: string;

  before(async () => {
    nodes = await startNodes(2, { tls: true });
    const [a, b] = nodes as [TestNode, TestNode];
    alice = await cryptoClient(a, await registerUser(a, 'alice'), 'alice@A');
    bob = await cryptoClient(b, await registerUser(b, 'bob'), 'bob@B');
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await stopNodes(nodes);
  });

  test('alice on A invites bob on B to an encrypted room; bob joins through A', async () => {
    const created = await alice.createRoom({
      invite: [bob.getUserId()!],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    roomId = created.room_id;
    await until('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === 'invite');
    await bob.joinRoom(roomId, { viaServers: [nodes[0]!.serverName] });
    await until("alice to see bob's join", () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join');
    await until('both to know the room is encrypted', () => alice.isRoomEncrypted(roomId) && bob.isRoomEncrypted(roomId));
  });

  test("each sees the other's device over federation", async () => {
    const bobsDevices = await alice.getCrypto()!.getUserDeviceInfo([bob.getUserId()!], true);
    assert.ok(bobsDevices.get(bob.getUserId()!)?.has(bob.getDeviceId()!), "alice sees bob's device");
    const alicesDevices = await bob.getCrypto()!.getUserDeviceInfo([alice.getUserId()!], true);
    assert.ok(alicesDevices.get(alice.getUserId()!)?.has(alice.getDeviceId()!), "bob sees alice's device");
  });

  test("bob on B decrypts alice's message", async () => {
    await alice.sendTextMessage(roomId, 'hello bob, across sites');
    await until("bob to decrypt alice's message", () => decryptedBodies(bob, roomId).includes('hello bob, across sites'));
  });

  test("alice on A decrypts bob's reply", async () => {
    await bob.sendTextMessage(roomId, 'hello alice, received across sites');
    await until("alice to decrypt bob's message", () => decryptedBodies(alice, roomId).includes('hello alice, received across sites'));
  });
});
