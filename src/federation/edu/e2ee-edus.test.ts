// E2EE EDUs received over federation, against a real database: server-server § "Device
// Management" (m.device_list_update: prev_id chains, resync through GET /user/devices),
// § "End-to-End Encryption" (m.signing_key_update), § "Send-to-device messaging"
// (m.direct_to_device: `*` expansion, idempotence by message_id).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../http/testing.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { AccountsRepository } from '../../storage/accounts-repository.ts';
import { DevicesRepository } from '../../storage/devices-repository.ts';
import { E2eeDeviceListsRepository } from '../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import { E2eeStream } from '../../storage/e2ee-streams.ts';
import { E2eeToDeviceRepository } from '../../storage/e2ee-to-device-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { decideDeviceListUpdate, DeviceListUpdateEduHandler, parseDeviceListUpdate, parseUserDevices } from './e2ee-device-lists.ts';
import { parseRemoteCrossSigningKey, SigningKeyUpdateEduHandler } from './e2ee-signing-keys.ts';
import { DirectToDeviceEduHandler } from './e2ee-to-device.ts';

const ORIGIN = 'remote.test';
const LOCAL = 'stoa.test';
const logger = silentLogger();

function deviceKeys(userId: string, deviceId: string, tag = 'k'): JsonObject {
  return {
    user_id: userId,
    device_id: deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2'],
    keys: { [`curve25519:${deviceId}`]: `${tag}-curve`, [`ed25519:${deviceId}`]: `${tag}-ed` },
    signatures: { [userId]: { [`ed25519:${deviceId}`]: 'sig' } },
  };
}

function masterKey(userId: string, pub = 'MASTERPUB'): JsonObject {
  return { user_id: userId, usage: ['master'], keys: { [`ed25519:${pub}`]: pub } };
}

test('m.device_list_update parsing: required fields, keys must name the user and device', () => {
  const ok = parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: 5, prev_id: [4], keys: deviceKeys('@u:r', 'D') });
  assert.equal(ok?.streamId, 5);
  assert.deepEqual(ok?.prevIds, [4]);
  assert.equal(ok?.deleted, false);
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: 5 })?.prevIds.length, 0, 'prev_id may be missing');
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D' }), undefined, 'stream_id is required');
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: -1 }), undefined);
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: 1, prev_id: ['x'] }), undefined);
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: 1, deleted: 'yes' }), undefined);
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: 1, keys: deviceKeys('@u:r', 'OTHER') }), undefined);
  assert.equal(parseDeviceListUpdate({ user_id: '@u:r', device_id: 'D', stream_id: 1, keys: deviceKeys('@v:r', 'D') }), undefined);
});

test('m.device_list_update decisions: follow-on applies, gaps and unknown users resync, old ones are ignored', () => {
  const state = { streamId: 10, stale: false };
  assert.equal(decideDeviceListUpdate(undefined, 3, [2]), 'resync', 'no cache yet');
  assert.equal(decideDeviceListUpdate({ streamId: 10, stale: true }, 11, [10]), 'resync', 'a stale cache');
  assert.equal(decideDeviceListUpdate(state, 12, [10]), 'apply');
  assert.equal(decideDeviceListUpdate(state, 10, [7]), 'apply', 'a sibling of the update at the same stream_id');
  assert.equal(decideDeviceListUpdate(state, 12, [11]), 'resync', 'a prev_id we never saw');
  assert.equal(decideDeviceListUpdate(state, 12, []), 'resync', 'no prev_id');
  assert.equal(decideDeviceListUpdate(state, 12, [10, 11]), 'resync');
  assert.equal(decideDeviceListUpdate(state, 9, [8]), 'ignore');
});

test('cross-signing keys from other servers: owner, usage and a key ID that is the key', () => {
  assert.equal(parseRemoteCrossSigningKey(masterKey('@u:r'), '@u:r', 'master')?.publicKey, 'MASTERPUB');
  assert.equal(parseRemoteCrossSigningKey(masterKey('@u:r'), '@v:r', 'master'), undefined);
  assert.equal(parseRemoteCrossSigningKey(masterKey('@u:r'), '@u:r', 'self_signing'), undefined);
  assert.equal(parseRemoteCrossSigningKey({ ...masterKey('@u:r'), keys: { 'ed25519:A': 'B' } }, '@u:r', 'master'), undefined);
  assert.equal(parseRemoteCrossSigningKey({ ...masterKey('@u:r'), keys: { 'ed25519:A': 'A', 'ed25519:B': 'B' } }, '@u:r', 'master'), undefined);
  assert.equal(parseRemoteCrossSigningKey('x', '@u:r', 'master'), undefined);
});

test('GET /user/devices answers: devices with keys of another device are dropped', () => {
  const snapshot = parseUserDevices(
    {
      user_id: '@u:r',
      stream_id: 7,
      devices: [
        { device_id: 'A', keys: deviceKeys('@u:r', 'A'), device_display_name: 'phone' },
        { device_id: 'B', keys: deviceKeys('@u:r', 'A') },
        { device_id: 'C' },
        'junk',
      ],
      master_key: masterKey('@u:r'),
    },
    '@u:r',
  );
  assert.equal(snapshot?.streamId, 7);
  assert.deepEqual(
    snapshot?.devices.map((d) => [d.deviceId, d.displayName, d.keyJson !== null]),
    [
      ['A', 'phone', true],
      ['C', null, false],
    ],
  );
  assert.equal(snapshot?.crossSigningKeys.length, 1);
  assert.equal(parseUserDevices({ user_id: '@v:r', stream_id: 1, devices: [] }, '@u:r'), undefined);
  assert.equal(parseUserDevices({ user_id: '@u:r', devices: [] }, '@u:r'), undefined);
});

/** Watchers that say `watched` users share a room with a local user, and record announcements. */
function fakeWatchers(watched: ReadonlySet<string>) {
  const announced: string[] = [];
  return {
    announced,
    of: async (userId: string) => (watched.has(userId) ? ['@local:stoa.test'] : []),
    announce: async (userId: string) => {
      announced.push(userId);
      return announced.length;
    },
  };
}

/** A federation client whose GET /user/devices answers from `lists` (or fails while `down`). */
function fakeClient(lists: Map<string, JsonObject>) {
  const calls: string[] = [];
  const client = {
    calls,
    down: false,
    async get(destination: string, path: string): Promise<JsonObject> {
      calls.push(`${destination} ${path}`);
      if (client.down) throw new Error('unreachable');
      const userId = decodeURIComponent(path.slice('/_matrix/federation/v1/user/devices/'.length));
      const list = lists.get(userId);
      if (list === undefined) throw new Error('unknown user');
      return list;
    },
  };
  return client;
}

describeEngines('E2EE EDUs received over federation', (getDb) => {
  describe('m.device_list_update handling', () => {
    const alice = `@alice:${ORIGIN}`;

    test('first update resyncs; follow-on updates apply without a request; a gap resyncs; every change is announced', async () => {
      const db = getDb();
      const repo = new E2eeDeviceListsRepository(db.kysely);
      const lists = new Map<string, JsonObject>([[alice, { user_id: alice, stream_id: 3, devices: [{ device_id: 'A', keys: deviceKeys(alice, 'A') }], master_key: masterKey(alice) }]]);
      const client = fakeClient(lists);
      const watchers = fakeWatchers(new Set([alice]));
      const handler = new DeviceListUpdateEduHandler({ deviceLists: repo, keys: new E2eeKeysRepository(db.kysely), watchers, client, logger, clock: () => 1 });
      const edu = (content: JsonObject) => handler.handle({ origin: ORIGIN, eduType: 'm.device_list_update', content: { user_id: alice, ...content } });

      await edu({ device_id: 'A', stream_id: 3, prev_id: [1], keys: deviceKeys(alice, 'A') });
      await handler.idle();
      assert.equal(client.calls.length, 1, 'no cache: resync');
      assert.deepEqual(await repo.remoteState(alice), { streamId: 3, stale: false });
      assert.equal((await new E2eeKeysRepository(db.kysely).crossSigningKeysOf([alice]))[0]?.publicKey, 'MASTERPUB');

      await edu({ device_id: 'B', stream_id: 5, prev_id: [3], keys: deviceKeys(alice, 'B'), device_display_name: 'laptop' });
      await handler.idle();
      assert.equal(client.calls.length, 1, 'a follow-on update needs no request');
      assert.deepEqual(await repo.remoteState(alice), { streamId: 5, stale: false });
      assert.deepEqual((await repo.remoteDevices(alice)).map((d) => [d.deviceId, d.displayName]), [['A', null], ['B', 'laptop']]);

      await edu({ device_id: 'A', stream_id: 6, prev_id: [5], deleted: true });
      await handler.idle();
      assert.deepEqual((await repo.remoteDevices(alice)).map((d) => d.deviceId), ['B']);

      await edu({ device_id: 'A', stream_id: 4, prev_id: [3], keys: deviceKeys(alice, 'A') });
      await handler.idle();
      assert.deepEqual((await repo.remoteDevices(alice)).map((d) => d.deviceId), ['B'], 'an older update is ignored');

      lists.set(alice, { user_id: alice, stream_id: 9, devices: [{ device_id: 'C', keys: deviceKeys(alice, 'C') }] });
      await edu({ device_id: 'C', stream_id: 9, prev_id: [8], keys: deviceKeys(alice, 'C') });
      await handler.idle();
      assert.equal(client.calls.length, 2, 'a prev_id we never saw: resync');
      assert.equal(client.calls[1], `${ORIGIN} /_matrix/federation/v1/user/devices/${encodeURIComponent(alice)}`);
      assert.deepEqual((await repo.remoteDevices(alice)).map((d) => d.deviceId), ['C']);
      assert.deepEqual(await repo.remoteState(alice), { streamId: 9, stale: false });
      assert.deepEqual(watchers.announced, [alice, alice, alice, alice], 'each applied or resynced update is announced once');
    });

    test('a failed resync leaves the list stale and the next update resyncs again', async () => {
      const db = getDb();
      const repo = new E2eeDeviceListsRepository(db.kysely);
      const bob = `@bob:${ORIGIN}`;
      const lists = new Map<string, JsonObject>([[bob, { user_id: bob, stream_id: 2, devices: [] }]]);
      const client = fakeClient(lists);
      client.down = true;
      const handler = new DeviceListUpdateEduHandler({ deviceLists: repo, keys: new E2eeKeysRepository(db.kysely), watchers: fakeWatchers(new Set([bob])), client, logger, clock: () => 1 });
      await handler.handle({ origin: ORIGIN, eduType: 'm.device_list_update', content: { user_id: bob, device_id: 'X', stream_id: 1 } });
      await handler.idle();
      assert.equal((await repo.remoteState(bob))?.stale, true);
      client.down = false;
      await handler.handle({ origin: ORIGIN, eduType: 'm.device_list_update', content: { user_id: bob, device_id: 'X', stream_id: 2, prev_id: [1] } });
      await handler.idle();
      assert.deepEqual(await repo.remoteState(bob), { streamId: 2, stale: false });
      assert.equal(client.calls.length, 2);
    });

    test('updates about users no local user shares a room with, or malformed ones, are ignored', async () => {
      const db = getDb();
      const repo = new E2eeDeviceListsRepository(db.kysely);
      const carol = `@carol:${ORIGIN}`;
      const client = fakeClient(new Map());
      const watchers = fakeWatchers(new Set([`@someone-else:${ORIGIN}`]));
      const handler = new DeviceListUpdateEduHandler({ deviceLists: repo, keys: new E2eeKeysRepository(db.kysely), watchers, client, logger, clock: () => 1 });
      await handler.handle({ origin: ORIGIN, eduType: 'm.device_list_update', content: { user_id: carol, device_id: 'X', stream_id: 1 } });
      await handler.handle({ origin: ORIGIN, eduType: 'm.device_list_update', content: { user_id: `@someone-else:${ORIGIN}`, stream_id: 1 } });
      await handler.close();
      assert.equal(await repo.remoteState(carol), undefined);
      assert.equal(client.calls.length, 0);
      assert.deepEqual(watchers.announced, []);
    });
  });

  describe('the cache of remote device lists (server-server § "Device Management")', () => {
    /** A membership change as the roomserver's output announces it. */
    const leave = (roomId: string, target: string) => ({
      roomId,
      eventId: `$${target}`,
      streamOrdering: 1,
      type: 'm.room.member',
      stateKey: target,
      sender: target,
      origin: ORIGIN,
      membershipChange: { target, membership: 'leave', previous: 'join' },
    });

    test('resync() fetches the whole list on demand, once for concurrent callers; a failure rejects and leaves the list stale', async () => {
      const db = getDb();
      const repo = new E2eeDeviceListsRepository(db.kysely);
      const dave = `@dave:${ORIGIN}`;
      const client = fakeClient(new Map([[dave, { user_id: dave, stream_id: 4, devices: [{ device_id: 'D', keys: deviceKeys(dave, 'D') }] }]]));
      const watchers = fakeWatchers(new Set([dave]));
      const handler = new DeviceListUpdateEduHandler({ deviceLists: repo, keys: new E2eeKeysRepository(db.kysely), watchers, client, logger, clock: () => 1 });
      await Promise.all([handler.resync(dave), handler.resync(dave)]);
      assert.equal(client.calls.length, 1, 'concurrent resyncs of one user make one request');
      assert.deepEqual(await repo.remoteState(dave), { streamId: 4, stale: false });
      assert.deepEqual(await repo.trackedAmong([dave, `@nobody:${ORIGIN}`]), [dave]);
      assert.deepEqual(watchers.announced, [], 'a resync on demand changes nothing local users were told');
      await repo.markRemoteStale(dave, 2);
      client.down = true;
      await assert.rejects(handler.resync(dave));
      assert.deepEqual(await repo.remoteState(dave), { streamId: 4, stale: true });
      await assert.rejects(handler.resync('not-a-user'));
    });

    test('a list goes stale once no local user shares a room with its user: their leave, ours, or an update we are not meant to get', async () => {
      const db = getDb();
      const repo = new E2eeDeviceListsRepository(db.kysely);
      const erin = `@erin:${ORIGIN}`;
      const frank = `@frank:${ORIGIN}`;
      const gina = `@gina:${ORIGIN}`;
      const lists = new Map<string, JsonObject>([erin, frank, gina].map((u) => [u, { user_id: u, stream_id: 1, devices: [] }]));
      const watched = new Set([erin, frank, gina]);
      const watchers = fakeWatchers(watched);
      const handler = new DeviceListUpdateEduHandler({
        deviceLists: repo,
        keys: new E2eeKeysRepository(db.kysely),
        watchers,
        client: fakeClient(lists),
        serverName: LOCAL,
        members: async () => [`@local:${LOCAL}`, frank, gina],
        logger,
        clock: () => 1,
      });
      for (const user of [erin, frank, gina]) await handler.resync(user);

      // erin leaves, but a local user still shares another room with her: still current.
      handler.onNewEvent(leave('!r:x', erin));
      await handler.idle();
      assert.deepEqual(await repo.trackedAmong([erin]), [erin]);
      // Now nobody does.
      watched.delete(erin);
      handler.onNewEvent(leave('!r:x', erin));
      await handler.idle();
      assert.deepEqual(await repo.remoteState(erin), { streamId: 1, stale: true });

      // A local user leaves a room; frank shares no other room with us, gina does.
      watched.delete(frank);
      handler.onNewEvent(leave('!r:x', `@local:${LOCAL}`));
      await handler.idle();
      assert.deepEqual(await repo.trackedAmong([frank, gina]), [gina]);

      // An update about gina once nobody here shares a room with her: the cache missed it.
      watched.delete(gina);
      await handler.handle({ origin: ORIGIN, eduType: 'm.device_list_update', content: { user_id: gina, device_id: 'G', stream_id: 2, prev_id: [1] } });
      await handler.close();
      assert.deepEqual(await repo.remoteState(gina), { streamId: 1, stale: true });
    });
  });

  describe('m.signing_key_update handling', () => {
    test('stores the master and self-signing keys of a watched user and announces the change', async () => {
      const keys = new E2eeKeysRepository(getDb().kysely);
      const dave = `@dave:${ORIGIN}`;
      const watchers = fakeWatchers(new Set([dave]));
      const handler = new SigningKeyUpdateEduHandler({ keys, watchers, logger, clock: () => 1 });
      const selfSigning = { user_id: dave, usage: ['self_signing'], keys: { 'ed25519:SSK': 'SSK' }, signatures: { [dave]: { 'ed25519:MASTERPUB': 'sig' } } };
      await handler.handle({ origin: ORIGIN, eduType: 'm.signing_key_update', content: { user_id: dave, master_key: masterKey(dave), self_signing_key: selfSigning } });
      const stored = await keys.crossSigningKeysOf([dave]);
      assert.deepEqual(stored.map((k) => [k.keyType, k.publicKey]).sort(), [['master', 'MASTERPUB'], ['self_signing', 'SSK']]);
      assert.deepEqual(watchers.announced, [dave]);

      // A malformed key spoils the whole update; nothing changes.
      await handler.handle({ origin: ORIGIN, eduType: 'm.signing_key_update', content: { user_id: dave, master_key: masterKey(dave, 'NEW'), self_signing_key: { user_id: dave } } });
      assert.equal((await keys.crossSigningKeysOf([dave])).find((k) => k.keyType === 'master')?.publicKey, 'MASTERPUB');

      // Nobody here shares a room with erin: ignored.
      const erin = `@erin:${ORIGIN}`;
      await handler.handle({ origin: ORIGIN, eduType: 'm.signing_key_update', content: { user_id: erin, master_key: masterKey(erin) } });
      assert.deepEqual(await keys.crossSigningKeysOf([erin]), []);
      assert.deepEqual(watchers.announced, [dave]);
    });
  });

  describe('m.direct_to_device handling', () => {
    const bob = `@bob:${LOCAL}`;
    const carol = `@carol:${LOCAL}`;
    const sender = `@alice:${ORIGIN}`;

    test('delivers to the named device and to every device for `*`, once per message_id, and wakes only the recipients', async () => {
      const db = getDb();
      const accounts = new AccountsRepository(db.kysely);
      const devices = new DevicesRepository(db.kysely);
      for (const userId of [bob, carol]) await accounts.createUser({ userId, passwordHash: null, createdTs: 1 });
      for (const [userId, deviceId] of [[bob, 'B1'], [bob, 'B2'], [carol, 'C1']] as const) {
        await devices.createIfAbsent({ userId, deviceId, displayName: null, createdTs: 1 });
      }
      const toDevice = new E2eeToDeviceRepository(db.kysely);
      const stream = new E2eeStream('d', () => toDevice.maxStreamId());
      const woken: Array<readonly string[] | undefined> = [];
      stream.onAdvance((_position, scope) => woken.push(scope?.users));
      const handler = new DirectToDeviceEduHandler({ serverName: LOCAL, toDevice, devices, stream, logger, clock: () => 1 });
      const edu = {
        origin: ORIGIN,
        eduType: 'm.direct_to_device',
        content: {
          sender,
          type: 'm.room_key_request',
          message_id: 'm1',
          messages: {
            [bob]: { '*': { n: 1 } },
            [carol]: { C1: { n: 2 }, UNKNOWN: { n: 3 }, C2: 'not an object' },
            [`@dan:${ORIGIN}`]: { D: { n: 4 } },
          },
        },
      };
      await handler.handle(edu);
      await handler.handle(edu);

      const pending = async (userId: string, deviceId: string) => (await toDevice.pending(userId, deviceId, 0, Number.MAX_SAFE_INTEGER, 10)).map((m) => [m.sender, m.type, JSON.parse(m.content)]);
      assert.deepEqual(await pending(bob, 'B1'), [[sender, 'm.room_key_request', { n: 1 }]]);
      assert.deepEqual(await pending(bob, 'B2'), [[sender, 'm.room_key_request', { n: 1 }]]);
      assert.deepEqual(await pending(carol, 'C1'), [[sender, 'm.room_key_request', { n: 2 }]]);
      assert.deepEqual(await pending(carol, 'UNKNOWN'), []);
      assert.equal(woken.length, 1, 'the repeated EDU queued nothing');
      assert.deepEqual([...(woken[0] ?? [])].sort(), [bob, carol]);

      // The same message_id from another sender is another message.
      await handler.handle({ ...edu, content: { ...edu.content, sender: `@other:${ORIGIN}`, messages: { [carol]: { C1: { n: 5 } } } } });
      assert.equal((await pending(carol, 'C1')).length, 2);
    });

    test('ignores EDUs whose sender is not a user of the origin, or without a message_id', async () => {
      const db = getDb();
      const toDevice = new E2eeToDeviceRepository(db.kysely);
      const stream = new E2eeStream('d', () => toDevice.maxStreamId());
      const handler = new DirectToDeviceEduHandler({ serverName: LOCAL, toDevice, devices: new DevicesRepository(db.kysely), stream, logger, clock: () => 1 });
      await stream.ready();
      const start = stream.currentPosition();
      await handler.handle({ origin: ORIGIN, eduType: 'm.direct_to_device', content: { sender: `@mallory:elsewhere.test`, type: 't', message_id: 'x', messages: { [bob]: { '*': {} } } } });
      await handler.handle({ origin: ORIGIN, eduType: 'm.direct_to_device', content: { sender, type: 't', messages: { [bob]: { '*': {} } } } });
      await handler.handle({ origin: ORIGIN, eduType: 'm.direct_to_device', content: { sender, type: 't', message_id: 'y', messages: 'nope' } });
      assert.equal(stream.currentPosition(), start);
    });
  });
});
