import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../../../rooms/json.ts';
import { roomVersionRules, type RoomVersionRules } from '../../../rooms/room-versions.ts';
import { normalisePowerLevels, planUpgrade, restrictedOldPowerLevels, type OldRoomState } from './upgrade-plan.ts';

const ALICE = '@alice:stoa.test';
const BOB = '@bob:stoa.test';
const rules = (id: string): RoomVersionRules => roomVersionRules(id)!;

function oldRoom(overrides: Partial<OldRoomState> = {}): OldRoomState {
  return {
    rules: rules('10'),
    createContent: { creator: ALICE, room_version: '10' },
    lastEventId: '$last',
    powerLevels: { users: { [ALICE]: 100 }, state_default: 50, ban: 50, events: { 'm.room.power_levels': 100 } },
    transferred: new Map<string, JsonObject>([['m.room.name', { name: 'Room' }]]),
    spaceChildren: [],
    bannedUsers: [],
    ...overrides,
  };
}

test('client-server § Room Upgrades: predecessor and type in the new create event; state copied in order', () => {
  const plan = planUpgrade(
    oldRoom({ createContent: { type: 'm.space', 'm.federate': false }, spaceChildren: [['!child:stoa.test', { via: ['stoa.test'] }]], bannedUsers: ['@eve:stoa.test'] }),
    { oldRoomId: '!old:stoa.test', upgrader: ALICE, newRules: rules('11'), additionalCreators: undefined },
  );
  assert.deepEqual(plan.createContent, { predecessor: { room_id: '!old:stoa.test', event_id: '$last' }, type: 'm.space', 'm.federate': false });
  assert.deepEqual(
    plan.initialState.map((s) => `${s.type}|${s.stateKey}`),
    ['m.room.power_levels|', 'm.room.name|', 'm.space.child|!child:stoa.test', 'm.room.member|@eve:stoa.test'],
  );
});

test('client-server § Room Upgrades: an upgrader below the needed level is raised, then the old levels restored', () => {
  const levels = { users: { [ALICE]: 100, [BOB]: 50 }, events: { 'm.room.tombstone': 50, 'm.room.power_levels': 100 }, state_default: 50 };
  const plan = planUpgrade(oldRoom({ powerLevels: levels }), { oldRoomId: '!old:x', upgrader: BOB, newRules: rules('11'), additionalCreators: undefined });
  const pls = plan.initialState.filter((s) => s.type === 'm.room.power_levels');
  assert.equal(pls.length, 2);
  assert.equal((pls[0]!.content['users'] as JsonObject)[BOB], 100);
  assert.deepEqual(pls[1]!.content, levels);
});

test('client-server § Room Upgrades: to v12, creators are left out of users and additional_creators set', () => {
  const plan = planUpgrade(oldRoom({ powerLevels: { users: { [ALICE]: 100, [BOB]: 100, '@carol:x': 50 } } }), {
    oldRoomId: '!old:x',
    upgrader: ALICE,
    newRules: rules('12'),
    additionalCreators: [BOB],
  });
  assert.deepEqual(plan.createContent['additional_creators'], [BOB]);
  const pls = plan.initialState.filter((s) => s.type === 'm.room.power_levels');
  assert.equal(pls.length, 1);
  assert.deepEqual(pls[0]!.content['users'], { '@carol:x': 50 });
  assert.throws(() => planUpgrade(oldRoom(), { oldRoomId: '!old:x', upgrader: ALICE, newRules: rules('12'), additionalCreators: ['bob'] }), /additional_creators/);
});

test('client-server § Room Upgrades: additional_creators is ignored for versions without them', () => {
  const plan = planUpgrade(oldRoom(), { oldRoomId: '!old:x', upgrader: ALICE, newRules: rules('11'), additionalCreators: [BOB] });
  assert.equal(plan.createContent['additional_creators'], undefined);
});

test('client-server § Room Upgrades step 6: events_default and invite raised to max(50, users_default + 1)', () => {
  assert.deepEqual(restrictedOldPowerLevels({ users_default: 0, events_default: 0, invite: 0 }), { users_default: 0, events_default: 50, invite: 50 });
  assert.deepEqual(restrictedOldPowerLevels({ users_default: 60 }), { users_default: 60, events_default: 61, invite: 61 });
  assert.equal(restrictedOldPowerLevels({ events_default: 50, invite: 100 }), undefined);
});

test('power levels from rooms before v10 are made integers (v10+ refuse strings)', () => {
  assert.deepEqual(normalisePowerLevels({ ban: '50', users: { [ALICE]: '100', [BOB]: 'x' }, events: { a: ' 20 ' }, kick: 1.5 }), {
    ban: 50,
    users: { [ALICE]: 100 },
    events: { a: 20 },
  });
});
