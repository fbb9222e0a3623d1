// E2EE storage on every engine (client-server § "End-to-End Encryption" › "Key management
// API": "each one-time key is handed out once"; § "Send-to-Device messaging"; § "Server-side
// key backups").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E2eeBackupRepository } from './e2ee-backup-repository.ts';
import { E2eeDeviceListsRepository } from './e2ee-device-lists-repository.ts';
import { E2eeKeysRepository } from './e2ee-keys-repository.ts';
import { E2eeToDeviceRepository } from './e2ee-to-device-repository.ts';
import { describeEngines } from './testing.ts';

describeEngines('e2ee repositories', (getDb) => {
  test('20 concurrent claims of 20 one-time keys hand out each key exactly once, then nothing', async () => {
    const keys = new E2eeKeysRepository(getDb().kysely);
    const otks = Array.from({ length: 20 }, (_, i) => ({ algorithm: 'signed_curve25519', keyId: `K${i}`, keyJson: JSON.stringify({ key: `k${i}` }) }));
    assert.deepEqual(await keys.addOneTimeKeys('@a:x', 'DEV', otks, 1), []);
    // Concurrent claims on PostgreSQL run on separate pool connections.
    const claims = await Promise.all(Array.from({ length: 25 }, () => keys.claimOneTimeKey('@a:x', 'DEV', 'signed_curve25519')));
    const handedOut = claims.filter((c) => c !== undefined).map((c) => c.keyId);
    assert.equal(handedOut.length, 20);
    assert.equal(new Set(handedOut).size, 20);
    assert.deepEqual(await keys.countOneTimeKeys('@a:x', 'DEV'), {});
  });

  test('a re-uploaded key ID with different content is a conflict and stores nothing', async () => {
    const keys = new E2eeKeysRepository(getDb().kysely);
    await keys.addOneTimeKeys('@b:x', 'DEV', [{ algorithm: 'signed_curve25519', keyId: 'A', keyJson: '"1"' }], 1);
    const conflicts = await keys.addOneTimeKeys(
      '@b:x',
      'DEV',
      [
        { algorithm: 'signed_curve25519', keyId: 'A', keyJson: '"2"' },
        { algorithm: 'signed_curve25519', keyId: 'B', keyJson: '"3"' },
      ],
      1,
    );
    assert.deepEqual(conflicts, ['signed_curve25519:A']);
    assert.deepEqual(await keys.countOneTimeKeys('@b:x', 'DEV'), { signed_curve25519: 1 });
  });

  test('the fallback key is handed out when marked, stays usable, and a new one starts unused', async () => {
    const keys = new E2eeKeysRepository(getDb().kysely);
    const key = { algorithm: 'signed_curve25519', keyId: 'F1', keyJson: '{"key":"f"}' };
    await keys.setFallbackKey('@c:x', 'DEV', key);
    assert.deepEqual(await keys.unusedFallbackKeyTypes('@c:x', 'DEV'), ['signed_curve25519']);
    assert.equal((await keys.claimFallbackKey('@c:x', 'DEV', 'signed_curve25519'))?.keyId, 'signed_curve25519:F1');
    assert.equal((await keys.claimFallbackKey('@c:x', 'DEV', 'signed_curve25519'))?.keyId, 'signed_curve25519:F1');
    assert.deepEqual(await keys.unusedFallbackKeyTypes('@c:x', 'DEV'), []);
    await keys.setFallbackKey('@c:x', 'DEV', key);
    assert.deepEqual(await keys.unusedFallbackKeyTypes('@c:x', 'DEV'), [], 'the same key again stays used');
    await keys.setFallbackKey('@c:x', 'DEV', { ...key, keyId: 'F2' });
    assert.deepEqual(await keys.unusedFallbackKeyTypes('@c:x', 'DEV'), ['signed_curve25519']);
  });

  test('to-device: a transaction ID queues once; acknowledged messages are deleted', async () => {
    const repo = new E2eeToDeviceRepository(getDb().kysely);
    const message = { userId: '@r:x', deviceId: 'D', sender: '@s:x', type: 'm.test', content: '{}' };
    const txn = { userId: '@s:x', deviceId: 'S', txnId: 't1' };
    const first = await repo.enqueue([message, message], 1, txn);
    assert.ok(first !== undefined && first > 0);
    assert.equal(await repo.enqueue([message], 1, txn), undefined);
    const pending = await repo.pending('@r:x', 'D', 0, first, 100);
    assert.equal(pending.length, 2);
    await repo.deleteUpTo('@r:x', 'D', pending[0]!.streamId);
    assert.equal((await repo.pending('@r:x', 'D', 0, first, 100)).length, 1);
    assert.ok((await repo.maxStreamId()) >= first);
  });

  test('device-list stream: changes per user in a range, and remote lists', async () => {
    const repo = new E2eeDeviceListsRepository(getDb().kysely);
    const p1 = await repo.appendChanges(['@u1:x'], 1);
    const p2 = await repo.appendChanges(['@u2:x', '@u1:x'], 2);
    assert.deepEqual(await repo.changedUsers(p1, p2), ['@u1:x', '@u2:x']);
    assert.deepEqual(await repo.changedUsers(p1, p2, new Set(['@u2:x'])), ['@u2:x']);
    assert.equal(await repo.latestFor('@u1:x', p1), p1);
    await repo.replaceRemoteDevices('@r:y', 5, [{ deviceId: 'A', displayName: null, keyJson: null }], 1);
    await repo.applyRemoteUpdate('@r:y', 6, { deviceId: 'B', deleted: false, displayName: 'b', keyJson: '{}' }, 1);
    await repo.applyRemoteUpdate('@r:y', 7, { deviceId: 'A', deleted: true, displayName: null, keyJson: null }, 1);
    assert.deepEqual((await repo.remoteDevices('@r:y')).map((d) => d.deviceId), ['B']);
    assert.deepEqual(await repo.remoteState('@r:y'), { streamId: 7, stale: false });
    await repo.markRemoteStale('@r:y', 2);
    assert.equal((await repo.remoteState('@r:y'))?.stale, true);
  });

  test('remote device lists: which users share a room with a server, and whose cached list is current', async () => {
    const db = getDb().kysely;
    const lists = new E2eeDeviceListsRepository(db);
    const member = (roomId: string, userId: string, membership: string) => ({ room_id: roomId, type: 'm.room.member', state_key: userId, event_id: `$${roomId}${userId}`, membership });
    await db
      .insertInto('current_state')
      .values([
        member('!shared:x', '@local:here.test', 'join'),
        member('!shared:x', '@joined:far.test', 'join'),
        member('!shared:x', '@invited:far.test', 'invite'),
        member('!other:x', '@alone:far.test', 'join'),
        // A server whose name ends like ours is not ours.
        member('!other:x', '@x:nothere.test', 'join'),
      ])
      .execute();
    assert.deepEqual(
      (await lists.sharingRoomWithServer(['@joined:far.test', '@invited:far.test', '@alone:far.test', '@nobody:far.test'], 'here.test')).sort(),
      ['@joined:far.test'],
    );
    assert.deepEqual(await lists.sharingRoomWithServer([], 'here.test'), []);

    await lists.replaceRemoteDevices('@joined:far.test', 3, [], 1);
    await lists.replaceRemoteDevices('@alone:far.test', 3, [], 1);
    await lists.markRemoteStale('@alone:far.test', 2);
    assert.deepEqual(await lists.trackedAmong(['@joined:far.test', '@alone:far.test', '@nobody:far.test']), ['@joined:far.test']);
  });

  test('backup: etag moves only when keys change; deleted versions are not reused', async () => {
    const repo = new E2eeBackupRepository(getDb().kysely);
    const v1 = await repo.createVersion('@k:x', 'alg', '{}');
    const better = () => true;
    const key = { roomId: '!r', sessionId: 's', firstMessageIndex: 3, forwardedCount: 0, isVerified: false, sessionData: '{}' };
    const a = await repo.putKeys('@k:x', v1, [key], better);
    const b = await repo.putKeys('@k:x', v1, [key], () => false);
    assert.equal(a.count, 1);
    assert.equal(b.etag, a.etag);
    assert.equal((await repo.deleteKeys('@k:x', v1, { roomId: '!r' })).count, 0);
    assert.ok(await repo.deleteVersion('@k:x', v1));
    assert.equal(await repo.findVersion('@k:x'), undefined);
    assert.equal(await repo.createVersion('@k:x', 'alg', '{}'), v1 + 1);
  });
});
