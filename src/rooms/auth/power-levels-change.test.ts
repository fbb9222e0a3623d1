// The m.room.power_levels rule (v1–v5 rule 10, v6–v11 rule 9, v12 rule 10), every
// sub-rule's allow and deny branch in every version where it applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../json.ts';
import { powerLevelsRule, topRule } from './rule-numbers.ts';
import { ALICE, ALL_VERSIONS, BOB, CAROL, DAVE, makeRoom, outcome, versionsWhere } from './testing.ts';

/** A room where Bob (50) manages power levels; Carol has 50, Dave 10. */
function managed(version: string, extra: JsonObject = {}) {
  const room = makeRoom(version);
  const creatorEntry: JsonObject = room.rules.auth.privilegeCreators ? {} : { [ALICE]: 100 };
  const current: JsonObject = { users: { ...creatorEntry, [BOB]: 50, [CAROL]: 50, [DAVE]: 10 }, ban: 50, kick: 50, ...extra };
  room.setPowerLevels(current);
  room.setMember(BOB, 'join');
  const change = (patch: JsonObject, sender = BOB) =>
    outcome(room.authorize(room.event({ type: 'm.room.power_levels', sender, stateKey: '', content: { ...current, ...patch } })));
  const users = (patch: JsonObject) => ({ users: { ...creatorEntry, [BOB]: 50, [CAROL]: 50, [DAVE]: 10, ...patch } });
  return { room, change, users, n: (name: Parameters<typeof powerLevelsRule>[1]) => powerLevelsRule(room.rules, name) };
}

test('users must map valid user IDs to integers (v1–v9: or integer strings; v1–v5: or floats)', () => {
  for (const v of ALL_VERSIONS) {
    const { room, change, users, n } = managed(v);
    const stringy = !room.rules.auth.integerPowerLevels;
    const floaty = !room.rules.strictCanonicalJson;
    assert.equal(change(users({})), 'allow', `v${v} unchanged`);
    assert.equal(change({ users: [] }), n('users'), `v${v} array`);
    assert.equal(change({ users: 'x' }), n('users'), `v${v} string`);
    assert.equal(change(users({ 'not-a-user': 0 })), n('users'), `v${v} bad key`);
    assert.equal(change(users({ '@no-server': 0 })), n('users'), `v${v} bad key`);
    assert.equal(change(users({ [DAVE]: '20' })), stringy ? 'allow' : n('users'), `v${v} stringy`);
    assert.equal(change(users({ [DAVE]: 20.5 })), floaty ? 'allow' : n('users'), `v${v} floaty`);
    assert.equal(change(users({ [DAVE]: 'twenty' })), n('users'), `v${v} word`);
    assert.equal(change(users({ [DAVE]: null })), n('users'), `v${v} null`);
    assert.equal(change(users({ [DAVE]: true })), n('users'), `v${v} boolean`);
  }
});

test('v10+: named levels must be integers, events and notifications objects of integers', () => {
  for (const v of ALL_VERSIONS) {
    const { room, change, n } = managed(v);
    if (!room.rules.auth.integerPowerLevels) {
      // v1–v9 read the same string as the integer it spells: no change at all.
      assert.equal(change({ ban: '50' }), 'allow', `v${v}`);
      continue;
    }
    assert.equal(change({ ban: '50' }), n('namedIntegers'), `v${v} string in v10 is rejected`);
    assert.equal(change({ invite: null }), n('namedIntegers'), `v${v}`);
    assert.equal(change({ events_default: 0.5 }), n('namedIntegers'), `v${v}`);
    assert.equal(change({ events: { 'm.room.name': '50' } }), n('mapsIntegers'), `v${v}`);
    assert.equal(change({ events: [] }), n('mapsIntegers'), `v${v}`);
    assert.equal(change({ notifications: 5 }), n('mapsIntegers'), `v${v}`);
    assert.equal(change({ notifications: { room: 50 }, events: { 'm.room.name': 50 } }), 'allow', `v${v}`);
  }
});

test('v12: power levels cannot name a creator (no demoting creators)', () => {
  const room = makeRoom('12', { createContent: { additional_creators: [CAROL] } });
  room.setMember(BOB, 'join');
  room.setPowerLevels({ users: { [BOB]: 100 } });
  const send = (users: JsonObject, sender = ALICE) =>
    outcome(room.authorize(room.event({ type: 'm.room.power_levels', sender, stateKey: '', content: { users } })));
  assert.equal(send({ [ALICE]: 0 }), '10.4');
  assert.equal(send({ [ALICE]: 100 }), '10.4');
  assert.equal(send({ [CAROL]: 0 }), '10.4');
  assert.equal(send({ [BOB]: 50 }), 'allow');
  assert.equal(send({ [BOB]: 100, [DAVE]: 99 }, BOB), 'allow');
  // Before v12 the creator may be listed (and is, by default).
  const v11 = makeRoom('11');
  assert.equal(outcome(v11.authorize(v11.event({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 0 } } }))), 'allow');
});

test('the first power levels event is allowed whatever it grants', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v, { powerLevels: null });
    const users: JsonObject = room.rules.auth.privilegeCreators ? { [BOB]: 1000 } : { [ALICE]: 1000, [BOB]: 1000 };
    const first = room.event({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users, ban: 1000, events: { x: 1000 } } });
    assert.equal(outcome(room.authorize(first)), 'allow', `v${v}`);
    // Still only a user at state_default (50) may send it.
    room.setMember(BOB, 'join');
    const byBob = room.event({ type: 'm.room.power_levels', sender: BOB, stateKey: '', content: {} });
    assert.equal(outcome(room.authorize(byBob)), topRule(room.rules, 'requiredLevel'), `v${v}`);
  }
});

test('named levels: added, changed or removed only within the sender’s level', () => {
  for (const v of ALL_VERSIONS) {
    const { change, n } = managed(v, { redact: 60 });
    const named = n('named');
    assert.equal(change({ ban: 40 }), 'allow', `v${v} lower`);
    assert.equal(change({ ban: 50 }), 'allow', `v${v} same`);
    assert.equal(change({ ban: 51 }), `${named}.2`, `v${v} raise above own`);
    assert.equal(change({ invite: 60 }), `${named}.2`, `v${v} add above own`);
    assert.equal(change({ invite: 50 }), 'allow', `v${v} add at own`);
    assert.equal(change({ redact: 50 }), `${named}.1`, `v${v} change from above own`);
    const { change: changeWithout } = managed(v);
    assert.equal(changeWithout({ users_default: 60 }), `${named}.2`, `v${v} users_default`);
    assert.equal(changeWithout({ state_default: 0 }), 'allow', `v${v} state_default down`);
  }
});

test('named levels: removing a level above the sender’s is rejected', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const creatorEntry: JsonObject = room.rules.auth.privilegeCreators ? {} : { [ALICE]: 100 };
    room.setPowerLevels({ users: { ...creatorEntry, [BOB]: 50 }, kick: 70 });
    room.setMember(BOB, 'join');
    const removeKick = room.event({ type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { ...creatorEntry, [BOB]: 50 } } });
    assert.equal(outcome(room.authorize(removeKick)), `${powerLevelsRule(room.rules, 'named')}.1`, `v${v}`);
  }
});

test('named levels v1–v9: an unreadable new value fails the rule', () => {
  for (const v of versionsWhere((r) => !r.auth.integerPowerLevels)) {
    const { change, n } = managed(v);
    assert.equal(change({ ban: 'lots' }), `${n('named')}.2`, `v${v}`);
    assert.equal(change({ kick: ' 40 ' }), 'allow', `v${v}`);
  }
});

test('events (and v6+ notifications): the current value of changed or removed entries', () => {
  for (const v of ALL_VERSIONS) {
    const { room, change, n } = managed(v, { events: { 'm.room.name': 60, 'm.room.topic': 40 }, notifications: { room: 60 } });
    const old = `${n('mapsOld')}.1`;
    assert.equal(change({ events: { 'm.room.name': 40, 'm.room.topic': 40 } }), old, `v${v} lower from above`);
    assert.equal(change({ events: { 'm.room.topic': 40 } }), old, `v${v} remove from above`);
    assert.equal(change({ events: { 'm.room.name': 60, 'm.room.topic': 10 } }), 'allow', `v${v} lower own`);
    assert.equal(change({ events: 'junk' }), room.rules.auth.integerPowerLevels ? n('mapsIntegers') : old, `v${v} junk removes all`);
    const notifications = change({ notifications: { room: 0 } });
    assert.equal(notifications, room.rules.auth.limitNotificationsPowerLevels ? old : 'allow', `v${v} notifications`);
  }
});

test('events (and v6+ notifications): the new value of added or changed entries', () => {
  for (const v of ALL_VERSIONS) {
    const { room, change, n } = managed(v, { events: { 'm.room.topic': 40 } });
    const next = `${n('mapsNew')}.1`;
    assert.equal(change({ events: { 'm.room.topic': 51 } }), next, `v${v} raise above own`);
    assert.equal(change({ events: { 'm.room.topic': 40, 'm.room.name': 51 } }), next, `v${v} add above own`);
    assert.equal(change({ events: { 'm.room.topic': 50, 'm.room.name': 50 } }), 'allow', `v${v} at own`);
    const notifications = change({ notifications: { room: 51 } });
    assert.equal(notifications, room.rules.auth.limitNotificationsPowerLevels ? next : 'allow', `v${v} notifications`);
    if (!room.rules.auth.integerPowerLevels) {
      assert.equal(change({ events: { 'm.room.topic': 'x' } }), next, `v${v} unreadable`);
      assert.equal(change({ events: { 'm.room.topic': '45' } }), 'allow', `v${v} stringy`);
    }
  }
});

test('users: changing or removing others at or above the sender is rejected', () => {
  for (const v of ALL_VERSIONS) {
    const { change, users, n } = managed(v);
    const old = `${n('usersOld')}.1`;
    assert.equal(change(users({ [CAROL]: 40 })), old, `v${v} demote an equal`);
    assert.equal(change({ users: Object.fromEntries(Object.entries(users({})['users']).filter(([k]) => k !== CAROL)) }), old, `v${v} remove an equal`);
    assert.equal(change(users({ [DAVE]: 20 })), 'allow', `v${v} promote below own`);
    assert.equal(change(users({ [DAVE]: 0 })), 'allow', `v${v} demote below own`);
    assert.equal(change(users({ [BOB]: 10 })), 'allow', `v${v} demote self`);
  }
});

test('users: a new level above the sender’s is rejected', () => {
  for (const v of ALL_VERSIONS) {
    const { change, users, n } = managed(v);
    const next = `${n('usersNew')}.1`;
    assert.equal(change(users({ [DAVE]: 51 })), next, `v${v} promote above own`);
    assert.equal(change(users({ [BOB]: 51 })), next, `v${v} promote self`);
    assert.equal(change(users({ '@eve:e.example': 51 })), next, `v${v} add above own`);
    assert.equal(change(users({ '@eve:e.example': 50 })), 'allow', `v${v} add at own`);
  }
});

test('v12 creators may change anything but cannot be named', () => {
  const { room, change } = managed('12', { ban: 50, events: { x: 100 } });
  room.setMember(ALICE, 'join');
  assert.equal(change({ ban: 1000000, events: {}, users: { [BOB]: 1000000 } }, ALICE), 'allow');
});
