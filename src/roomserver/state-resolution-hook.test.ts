// The roomserver's `onStateResolved` option (issue 12 item 4: the operator's
// stoa_state_resolution_seconds): told once per resolution between forks, never for a
// room that did not fork.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { describeEngines } from '../storage/testing.ts';
import { Roomserver } from './roomserver.ts';
import { RemoteServer, silentLogger, testKey, TestKeyring } from './testing.ts';

const ALICE = '@alice:local.test';
const BOB = '@bob:remote.test';

describeEngines('roomserver onStateResolved', (getDb) => {
  const keyring = new TestKeyring();
  const remote = new RemoteServer('remote.test', testKey(2));
  keyring.add(remote.serverName, remote.key);
  const timings: number[] = [];
  let rs: Roomserver;

  before(() => {
    rs = new Roomserver({ db: getDb(), serverName: 'local.test', signingKey: testKey(1), logger: silentLogger, remoteKeys: keyring, onStateResolved: (s) => timings.push(s) });
  });

  test('server-server § Room State Resolution: a fork is resolved and timed; a linear room is not', async () => {
    const { roomId } = await rs.createRoom({
      creator: ALICE,
      roomVersion: '10',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    });
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'linear' } });
    const join = await remote.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } });
    assert.equal((await rs.receivePdu(join, remote.serverName, { roomVersion: '10' })).outcome, 'accepted');
    assert.deepEqual(timings, [], 'no fork, no resolution');

    const base = (await rs.forwardExtremities(roomId))[0] ?? '';
    const left = await remote.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join', displayname: 'Bob' }, prevEvents: [base] });
    const right = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'fork' }, prevEvents: [base] });
    assert.equal((await rs.receivePdu(left, remote.serverName, { roomVersion: '10' })).outcome, 'accepted');
    assert.equal((await rs.receivePdu(right, remote.serverName, { roomVersion: '10' })).outcome, 'accepted');
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'merge' } });
    assert.ok(timings.length >= 1, 'the fork was resolved');
    for (const seconds of timings) assert.ok(seconds >= 0 && seconds < 60, String(seconds));
  });
});
