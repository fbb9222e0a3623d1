// Server-server § "Device Management": `m.device_list_update` EDUs "must be sent whenever
// that user's device list changes (i.e. ... when that user joins a room which contains
// servers which are not already receiving updates for that user's device list ...)". Here
// against a real database: which servers get which users' devices when someone joins.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../http/testing.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { AccountsRepository } from '../../storage/accounts-repository.ts';
import { createE2eeStreams } from '../../storage/e2ee-streams.ts';
import { DevicesRepository } from '../../storage/devices-repository.ts';
import { E2eeDeviceListsRepository } from '../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { DeviceListService } from './device-lists.ts';

const LOCAL = 'stoa.test';
const alice = `@alice:${LOCAL}`;
const bob = `@bob:${LOCAL}`;

describeEngines('device lists for servers newly sharing a room', (getDb) => {
  test('a join sends the local users devices to the servers that had no room with them, once', async () => {
    const db = getDb();
    const rooms = new Map<string, string[]>();
    const sent: Array<{ destination: string; content: JsonObject }> = [];
    const service = new DeviceListService({
      db,
      roomserver: { roomsForUser: async () => [], members: async (roomId: string) => rooms.get(roomId) ?? [] },
      stream: createE2eeStreams(db).deviceLists,
      serverName: LOCAL,
      federation: {
        queryKeys: async () => ({}),
        claimKeys: async () => ({}),
        resyncDeviceList: async () => {},
        sendEdu: async (destination, eduType, content) => {
          assert.equal(eduType, 'm.device_list_update');
          sent.push({ destination, content });
        },
      },
      logger: silentLogger(),
      clock: () => 1,
    });
    const accounts = new AccountsRepository(db.kysely);
    const devices = new DevicesRepository(db.kysely);
    const keys = new E2eeKeysRepository(db.kysely);
    for (const [user, device] of [
      [alice, 'PHONE'],
      [bob, 'TABLET'],
    ] as const) {
      await accounts.createUser({ userId: user, passwordHash: null, createdTs: 1 });
      await devices.createIfAbsent({ userId: user, deviceId: device, displayName: `${device} name`, createdTs: 1 });
      await keys.setDeviceKeys(user, device, JSON.stringify({ user_id: user, device_id: device, keys: {}, signatures: {} }), 1);
    }
    const position = await new E2eeDeviceListsRepository(db.kysely).appendChanges([alice], 1);
    const member = (roomId: string, userId: string) => ({ room_id: roomId, type: 'm.room.member', state_key: userId, event_id: `$${roomId}${userId}`, membership: 'join' });
    // alice already shares a room with far.test; bob shares none.
    await db.kysely
      .insertInto('current_state')
      .values([member('!old:x', alice), member('!old:x', '@f:far.test'), member('!new:x', alice), member('!new:x', bob)])
      .execute();
    rooms.set('!new:x', [alice, bob]);

    // A user of far.test joins !new: bob's devices are news to far.test, alice's are not.
    await db.kysely.insertInto('current_state').values(member('!new:x', '@g:far.test')).execute();
    rooms.set('!new:x', [alice, bob, '@g:far.test']);
    await service.membershipChanged('!new:x', { target: '@g:far.test', membership: 'join', previous: 'invite' });
    assert.deepEqual(sent, [
      {
        destination: 'far.test',
        content: {
          user_id: bob,
          device_id: 'TABLET',
          stream_id: 0,
          prev_id: [],
          keys: { user_id: bob, device_id: 'TABLET', keys: {}, signatures: {} },
          device_display_name: 'TABLET name',
        },
      },
    ]);

    // A second user of far.test brings no new server.
    sent.length = 0;
    rooms.set('!new:x', [alice, bob, '@g:far.test', '@h:far.test']);
    await service.membershipChanged('!new:x', { target: '@h:far.test', membership: 'join', previous: undefined });
    assert.equal(sent.length, 0);

    // alice joins a room with near.test (new to her) and far.test (not new): near.test only,
    // at her current position.
    rooms.set('!third:x', [alice, '@n:near.test', '@f:far.test']);
    await service.membershipChanged('!third:x', { target: alice, membership: 'join', previous: undefined });
    assert.deepEqual(
      sent.map((s) => [s.destination, s.content['user_id'], s.content['device_id'], s.content['stream_id']]),
      [['near.test', alice, 'PHONE', position]],
    );

    // Leaves, and joins of someone already joined (a profile change), send nothing.
    sent.length = 0;
    await service.membershipChanged('!third:x', { target: '@n:near.test', membership: 'leave', previous: 'join' });
    await service.membershipChanged('!third:x', { target: alice, membership: 'join', previous: 'join' });
    assert.equal(sent.length, 0);
  });
});
