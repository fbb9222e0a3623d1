// Out-of-band memberships (server-server § "Inviting to a room", § "Leaving Rooms
// (Rejecting Invites)"): an invite for a local user to a room this server does not hold is
// kept with its stripped state and listed as the user's membership; the user's own
// rejection replaces it; a later join over federation seeds the room on top of it; in a
// room that is held, the ordinary checks apply.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signEvent } from '../crypto/event-signing.ts';
import { stateKeyOf } from '../rooms/event-view.ts';
import type { JsonObject } from '../rooms/json.ts';
import { roomVersionRules } from '../rooms/room-versions.ts';
import { migrateToLatest } from '../storage/index.ts';
import { createTestDatabase, describeEngines, type TestDatabase } from '../storage/testing.ts';
import type { NewRoomEvent } from './output.ts';
import { Roomserver } from './roomserver.ts';
import { localRoomserver, RemoteServer, silentLogger, testKey, TestKeyring } from './testing.ts';

const DAVE = '@dave:local.test';
const ERIN = '@erin:local.test';
const ALICE = '@alice:remote.test';
const LOCAL_KEY = testKey(1);
const REMOTE_KEY = testKey(2);

function roomState(version: string, joinRule: string): Array<{ type: string; stateKey: string; content: JsonObject }> {
  return [
    { type: 'm.room.power_levels', stateKey: '', content: { users: version === '12' ? {} : { [ALICE]: 100 }, users_default: 0 } },
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: joinRule } },
    { type: 'm.room.name', stateKey: '', content: { name: 'Elsewhere' } },
  ];
}

describeEngines('roomserver: out-of-band memberships', (getDb) => {
  // The remote server holding the rooms, as a real Roomserver on its own database.
  let remoteDb: TestDatabase;
  let remote: Roomserver;
  let local: Roomserver;
  const outputs: NewRoomEvent[] = [];
  // Builds events on the remote server's view, signed as the local server (our own leave or join).
  const asLocal = new RemoteServer('local.test', LOCAL_KEY);

  before(async () => {
    remoteDb = await createTestDatabase('pglite');
    const report = await migrateToLatest(remoteDb.db);
    if (report.error !== undefined) throw report.error;
    const remoteKeyring = new TestKeyring();
    remoteKeyring.add('local.test', LOCAL_KEY);
    remote = new Roomserver({ db: remoteDb.db, serverName: 'remote.test', signingKey: REMOTE_KEY, logger: silentLogger, remoteKeys: remoteKeyring });
    const localKeyring = new TestKeyring();
    localKeyring.add('remote.test', REMOTE_KEY);
    local = localRoomserver(getDb(), localKeyring);
    local.onNewEvent((event) => outputs.push(event));
  });
  after(() => remoteDb?.dispose());

  /** An invite of `target` by alice on the remote server, as its invite request carries it. */
  async function remoteInvite(roomId: string, target: string): Promise<JsonObject> {
    const { eventId } = await remote.setMembership({ roomId, sender: ALICE, target, membership: 'invite' });
    const stored = await remote.event(eventId, 'stored');
    assert.ok(stored !== undefined);
    return stored.json;
  }

  for (const version of ['10', '12']) {
    test(`v${version}: an invite to a room not held here is kept; the invitee rejects it`, async () => {
      const { roomId } = await remote.createRoom({ creator: ALICE, roomVersion: version, initialState: roomState(version, 'invite') });
      const invite = await remoteInvite(roomId, DAVE);
      const stripped = [{ type: 'm.room.name', state_key: '', sender: ALICE, content: { name: 'Elsewhere' } }];

      const received = await local.receiveOutOfBandMembership({ event: invite, roomVersion: version, origin: 'remote.test', strippedState: stripped });
      assert.equal(received.outcome, 'outlier');
      assert.equal(await local.roomVersion(roomId), undefined, 'the room itself is still unknown here');
      assert.equal(await local.membership(roomId, DAVE), 'invite');
      assert.deepEqual(await local.roomsForUser(DAVE, 'invite'), [roomId]);
      const stored = await local.stateEvent(roomId, 'm.room.member', DAVE);
      assert.ok(stored !== undefined && stored.streamOrdering !== null, 'on the stream, so incremental /sync sees it');
      assert.deepEqual((stored.json['unsigned'] as JsonObject)['invite_room_state'], stripped);
      const announced = outputs.find((o) => o.eventId === received.eventId);
      assert.deepEqual(announced?.membershipChange, { target: DAVE, membership: 'invite', previous: undefined });
      assert.equal(announced?.origin, 'remote.test', 'not ours: the federation sender leaves it alone');

      assert.equal((await local.receiveOutOfBandMembership({ event: invite, roomVersion: version, origin: 'remote.test' })).outcome, 'duplicate');

      // Dave rejects through the remote server (make_leave/send_leave); the leave is kept too.
      const leave = await asLocal.buildEvent(remote, roomId, { type: 'm.room.member', stateKey: DAVE, sender: DAVE, content: { membership: 'leave' } });
      assert.equal((await remote.receivePdu(leave, 'local.test', { roomVersion: version })).outcome, 'accepted');
      const rejected = await local.receiveOutOfBandMembership({ event: leave, roomVersion: version, origin: 'remote.test' });
      assert.equal(rejected.outcome, 'outlier');
      assert.equal(await local.membership(roomId, DAVE), 'leave');
      assert.deepEqual(await local.roomsForUser(DAVE, 'invite'), []);
      assert.equal(outputs.find((o) => o.eventId === rejected.eventId)?.membershipChange?.previous, 'invite');
    });
  }

  test('an invited user then joins over federation: the room is seeded on top of the kept invite', async () => {
    const { roomId } = await remote.createRoom({ creator: ALICE, roomVersion: '12', initialState: roomState('12', 'invite') });
    const invite = await remoteInvite(roomId, ERIN);
    assert.equal((await local.receiveOutOfBandMembership({ event: invite, roomVersion: '12', origin: 'remote.test' })).outcome, 'outlier');

    const join = await asLocal.buildEvent(remote, roomId, { type: 'm.room.member', stateKey: ERIN, sender: ERIN, content: { membership: 'join' } });
    assert.equal((await remote.receivePdu(join, 'local.test', { roomVersion: '12' })).outcome, 'accepted');
    const joinId = (await remote.forwardExtremities(roomId))[0];
    assert.ok(joinId !== undefined);
    const before = (await remote.stateAt(joinId, 'before')) ?? new Map<string, string>();
    const events = async (ids: Iterable<string>) => Promise.all([...ids].map(async (id) => (await remote.event(id, 'stored'))!.json));
    await local.joinRemoteRoom({
      roomId,
      roomVersion: '12',
      origin: 'remote.test',
      joinEvent: join,
      state: await events(before.values()),
      authChain: await events(await remote.authChain([...before.values()])),
    });
    assert.equal(await local.roomVersion(roomId), '12');
    assert.equal(await local.membership(roomId, ERIN), 'join');
    assert.equal(await local.membership(roomId, ALICE), 'join');
    assert.ok(before.has(stateKeyOf('m.room.member', ERIN)), 'the state before the join holds the invite');
    assert.deepEqual(await local.roomsForUser(ERIN, 'invite'), []);
  });

  test('in a room held here the ordinary checks apply', async () => {
    // A local room the remote user is not in: their invite is not allowed.
    const { roomId } = await local.createRoom({
      creator: DAVE,
      roomVersion: '12',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    });
    const outsider = new RemoteServer('remote.test', REMOTE_KEY);
    const invite = await outsider.buildEvent(local, roomId, { type: 'm.room.member', stateKey: ERIN, sender: ALICE, content: { membership: 'invite' } });
    const result = await local.receiveOutOfBandMembership({ event: invite, roomVersion: '12', origin: 'remote.test' });
    assert.equal(result.outcome, 'rejected');
    assert.equal(await local.membership(roomId, ERIN), undefined);
  });

  test('what cannot be an out-of-band membership is dropped', async () => {
    const { roomId } = await remote.createRoom({ creator: ALICE, roomVersion: '10', initialState: roomState('10', 'invite') });
    const rules = roomVersionRules('10')!;
    const forOtherServer = await remoteInvite(roomId, '@zed:third.test');
    const drop = async (event: JsonObject) => (await local.receiveOutOfBandMembership({ event, roomVersion: '10', origin: 'remote.test' })).outcome;
    assert.equal(await drop(forOtherServer), 'dropped', 'the target is not ours');

    const invite = await remoteInvite(roomId, '@frank:local.test');
    const { signatures: _signatures, ...unsigned } = invite;
    assert.equal(await drop(unsigned), 'dropped', 'no signature of the sender');
    const forged = signEvent({ ...unsigned, content: { membership: 'join' } }, 'remote.test', REMOTE_KEY, rules);
    assert.equal(await drop(forged), 'dropped', 'a join needs the room state');
    const otherSender = signEvent({ ...unsigned, content: { membership: 'leave' } }, 'remote.test', REMOTE_KEY, rules);
    assert.equal(await drop(otherSender), 'dropped', 'a leave of someone else needs the room state');
    assert.equal(await local.membership(roomId, '@frank:local.test'), undefined);
  });

  test('check 3: an invite whose content does not match its hash is kept redacted', async () => {
    const { roomId } = await remote.createRoom({ creator: ALICE, roomVersion: '12', initialState: roomState('12', 'invite') });
    const invite = await remoteInvite(roomId, '@gina:local.test');
    // The signatures cover only the redacted form, so they still hold.
    const tampered = { ...invite, content: { membership: 'invite', displayname: 'Not what was signed' } };
    assert.equal((await local.receiveOutOfBandMembership({ event: tampered, roomVersion: '12', origin: 'remote.test' })).outcome, 'outlier');
    const stored = await local.stateEvent(roomId, 'm.room.member', '@gina:local.test');
    assert.deepEqual(stored?.json['content'], { membership: 'invite' });
  });
});
