// End-to-end encryption with real clients over federation, beyond one device each:
// matrix-js-sdk with its Rust crypto (@matrix-org/matrix-sdk-crypto-wasm) in Node, alice on
// node A and bob on node B in an encrypted room.
// - bob logs in a second device; alice's client learns of it through device-list updates
//   (B's m.device_list_update to A, then A's /sync `device_lists.changed`) and encrypts her
//   next message for it too;
// - alice bootstraps cross-signing (/keys/device_signing/upload, /keys/signatures/upload);
//   bob's client sees her device as signed by its owner;
// - alice backs her room keys up (/room_keys/version, /room_keys/keys), logs in on a fresh
//   device, restores the backup there and decrypts the room's history.
//
// Spec sections: client-server-api § "End-to-End Encryption" (Tracking the device list for
// a user, Cross-signing, Server-side key backups); server-server-api § "Device Management",
// § "End-to-End Encryption".

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as sdk from 'matrix-js-sdk';
import { cryptoClient, decryptedBodies, loginNewDevice, until } from './rig/js-sdk.ts';
import { request } from './rig/http.ts';
import { expectSpecResponse } from './rig/openapi.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

/** Answers the user-interactive auth of /keys/device_signing/upload with the password, when asked. */
function passwordAuth(user: RegisteredUser): sdk.UIAuthCallback<void> {
  return async (makeRequest) => {
    try {
      await makeRequest(null);
    } catch (err) {
      const session = err instanceof sdk.MatrixError ? err.data['session'] : undefined;
      if (!(err instanceof sdk.MatrixError) || err.httpStatus !== 401 || typeof session !== 'string') throw err;
      await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: user.password, session });
    }
  };
}

describe('matrix-js-sdk with Rust crypto: more devices, cross-signing and key backup across two nodes', { timeout: 400_000 }, () => {
  let nodes: TestNode[] = [];
  const clients: sdk.MatrixClient[] = [];
  let aliceUser: RegisteredUser;
  let bobUser: RegisteredUser;
  let alice: sdk.MatrixClient;
  let bob: sdk.MatrixClient;
  let roomId: string;

  const started = async (node: TestNode, user: RegisteredUser, name: string): Promise<sdk.MatrixClient> => {
    const client = await cryptoClient(node, user, name);
    clients.push(client);
    return client;
  };

  before(async () => {
    nodes = await startNodes(2, { tls: true });
    const [a, b] = nodes as [TestNode, TestNode];
    aliceUser = await registerUser(a, 'alice');
    bobUser = await registerUser(b, 'bob');
    alice = await started(a, aliceUser, 'alice@A');
    bob = await started(b, bobUser, 'bob@B');
    const created = await alice.createRoom({
      invite: [bobUser.userId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    roomId = created.room_id;
    await until('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === 'invite');
    await bob.joinRoom(roomId, { viaServers: [a.serverName] });
    await until("alice to see bob's join", () => alice.getRoom(roomId)?.getMember(bobUser.userId)?.membership === 'join');
    await until('both to know the room is encrypted', () => alice.isRoomEncrypted(roomId) && bob.isRoomEncrypted(roomId));
  });

  after(async () => {
    for (const client of clients) client.stopClient();
    await stopNodes(nodes);
  });

  test('client-server-api § "End-to-End Encryption": alice and bob exchange encrypted messages (the history to restore later)', async () => {
    await alice.sendTextMessage(roomId, 'first secret from alice');
    await until("bob to decrypt alice's message", () => decryptedBodies(bob, roomId).includes('first secret from alice'));
    await bob.sendTextMessage(roomId, 'first secret from bob');
    await until("alice to decrypt bob's message", () => decryptedBodies(alice, roomId).includes('first secret from bob'));
  });

  test("server-server-api § \"Device Management\": bob's second device on B decrypts alice's next message", async () => {
    const bob2User = await loginNewDevice(nodes[1]!, bobUser);
    const bob2 = await started(nodes[1]!, bob2User, 'bob2@B');
    // Alice's client hears of the new device only through A's /sync device_lists.changed,
    // which needs B's m.device_list_update (or A asking B) to have arrived.
    await until("alice's client to know bob's second device", async () => {
      const devices = await alice.getCrypto()!.getUserDeviceInfo([bobUser.userId], false);
      return devices.get(bobUser.userId)?.has(bob2User.deviceId) ?? false;
    });
    await alice.sendTextMessage(roomId, 'second secret from alice');
    await until("bob's second device to decrypt alice's new message", () => decryptedBodies(bob2, roomId).includes('second secret from alice'));
    await until("bob's first device to decrypt it too", () => decryptedBodies(bob, roomId).includes('second secret from alice'));
    // A message from before the device existed was not shared with it.
    assert.ok(!decryptedBodies(bob2, roomId).includes('first secret from alice'));
  });

  test('client-server-api § "Cross-signing": alice bootstraps cross-signing; bob sees her device signed by its owner', async () => {
    const crypto = alice.getCrypto()!;
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(aliceUser) });
    assert.equal(await crypto.isCrossSigningReady(), true);
    const own = await crypto.getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId);
    assert.equal(own?.signedByOwner, true, "alice's own client sees her device signed by her self-signing key");

    // Bob's client learns of the new keys through device-list updates from A and queries again.
    await until("bob's client to see alice's master key", async () => {
      // The identity (master and self-signing keys) bob's client stored for alice.
      return (await bob.getCrypto()!.getUserCrossSigningKeys(aliceUser.userId)) !== null;
    });
    await until("bob's client to see alice's device signed by her", async () => {
      const status = await bob.getCrypto()!.getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId);
      return status?.signedByOwner === true;
    });
    const userStatus = await bob.getCrypto()!.getUserVerificationStatus(aliceUser.userId);
    assert.equal(userStatus.known, true, 'bob has a record of her identity');
    assert.equal(userStatus.isCrossSigningVerified(), false, 'bob has not verified alice himself');
  });

  test('client-server-api § "Server-side key backups": alice restores the backup on a fresh device and decrypts the history', async () => {
    const crypto = alice.getCrypto()!;
    await crypto.resetKeyBackup();
    const version = await crypto.getActiveSessionBackupVersion();
    assert.ok(version !== null, 'the backup is active');
    const backupKey = await crypto.getSessionBackupPrivateKey();
    assert.ok(backupKey !== null, 'the new backup key is cached');
    // The room keys alice's device holds: at least her own outbound session and bob's.
    await until('the room keys to be backed up', async () => {
      const res = await request(`${nodes[0]!.clientUrl}/_matrix/client/v3/room_keys/version/${encodeURIComponent(version)}`, { headers: authHeaders(aliceUser) });
      expectSpecResponse(res, 'getRoomKeysVersion');
      return (res.body as { count: number }).count >= 2;
    });

    const alice2User = await loginNewDevice(nodes[0]!, aliceUser);
    const alice2 = await started(nodes[0]!, alice2User, 'alice2@A');
    await alice2.getCrypto()!.storeSessionBackupPrivateKey(backupKey, version);
    const restored = await alice2.getCrypto()!.restoreKeyBackup();
    assert.ok(restored.imported >= 2, `restored ${restored.imported} of ${restored.total} keys`);
    for (const body of ['first secret from alice', 'first secret from bob', 'second secret from alice']) {
      await until(`alice's fresh device to decrypt "${body}"`, () => decryptedBodies(alice2, roomId).includes(body));
    }
  });
});
