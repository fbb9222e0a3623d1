// Power level values and defaults: m.room.power_levels schema, fragments/v1-stringy-power-levels.md,
// fragments/v1-floaty-power-levels.md, v10.md (integers only), v12.md (infinite creators).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLevel, levelFieldChanged, readLevelField } from './power-level-values.ts';
import { powerLevelsFrom } from './power-levels.ts';
import { roomCreators } from './creators.ts';
import { ALICE, BOB, CAROL, makeEvent, makeRoom, rulesOf } from './testing.ts';

test('stringy power levels (v1–v9): base-10 integers, sign, leading zeroes, whitespace', () => {
  for (const v of ['1', '5', '6', '9']) {
    const r = rulesOf(v);
    assert.equal(parseLevel(r, '100'), 100);
    assert.equal(parseLevel(r, '000100'), 100);
    assert.equal(parseLevel(r, '+100'), 100);
    assert.equal(parseLevel(r, '-100'), -100);
    assert.equal(parseLevel(r, ' 00100 '), 100);
    assert.equal(parseLevel(r, ' -100\n'), -100);
    for (const bad of ['', ' ', '1.5', '1e3', '0x10', '--1', '+-1', '1 0', 'ten', '99999999999999999999']) {
      assert.equal(parseLevel(r, bad), undefined, `v${v} ${JSON.stringify(bad)}`);
    }
  }
});

test('v10+: only JSON integers are power levels', () => {
  for (const v of ['10', '11', '12']) {
    const r = rulesOf(v);
    assert.equal(parseLevel(r, 50), 50);
    assert.equal(parseLevel(r, '50'), undefined);
    assert.equal(parseLevel(r, 50.5), undefined);
    assert.equal(parseLevel(r, true), undefined);
    assert.equal(parseLevel(r, null), undefined);
  }
});

test('floaty power levels (v1–v5) truncate; v6+ reject fractions', () => {
  for (const v of ['1', '2', '3', '4', '5']) {
    const r = rulesOf(v);
    assert.equal(parseLevel(r, 50.57), 50);
    assert.equal(parseLevel(r, 5.114698e4), 51146);
    assert.equal(parseLevel(r, -1.9), -1);
    assert.equal(parseLevel(r, Infinity), undefined);
    assert.equal(parseLevel(r, NaN), undefined);
  }
  for (const v of ['6', '9']) assert.equal(parseLevel(rulesOf(v), 50.57), undefined);
});

test('changes compare levels, not spellings', () => {
  const r = rulesOf('9');
  assert.equal(levelFieldChanged(readLevelField(r, '50'), readLevelField(r, 50)), false);
  assert.equal(levelFieldChanged(readLevelField(r, undefined), readLevelField(r, undefined)), false);
  assert.equal(levelFieldChanged(readLevelField(r, 50), readLevelField(r, undefined)), true);
  assert.equal(levelFieldChanged(readLevelField(r, 'x'), readLevelField(r, 'x')), false);
  assert.equal(levelFieldChanged(readLevelField(r, 'x'), readLevelField(r, 'y')), true);
});

test('defaults with and without a power levels event', () => {
  const room = makeRoom('11', { powerLevels: null });
  const none = powerLevelsFrom(room.rules, undefined, room.create);
  assert.deepEqual(
    [none.usersDefault, none.eventsDefault, none.stateDefault, none.ban, none.kick, none.invite, none.redact],
    [0, 0, 50, 50, 50, 0, 50],
  );
  assert.equal(none.userLevel(ALICE), 100);
  assert.equal(none.userLevel(BOB), 0);
  assert.equal(none.eventLevel('m.room.message', false), 0);
  assert.equal(none.eventLevel('m.room.topic', true), 50);
  assert.equal(none.notificationLevel('room'), 50);

  const pl = makeEvent({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [BOB]: 20 }, users_default: 5, events: { 'm.room.topic': 10 }, notifications: { room: 20 }, ban: 70 },
  });
  const view = powerLevelsFrom(room.rules, pl, room.create);
  assert.equal(view.userLevel(BOB), 20);
  assert.equal(view.userLevel(ALICE), 5, 'an explicit power levels event replaces the creator default');
  assert.equal(view.userLevel('__proto__'), 5);
  assert.equal(view.eventLevel('m.room.topic', true), 10);
  assert.equal(view.eventLevel('constructor', false), 0);
  assert.equal(view.notificationLevel('room'), 20);
  assert.equal(view.ban, 70);
});

test('unreadable values in an accepted power levels event fall back to the defaults', () => {
  const room = makeRoom('1', { powerLevels: null });
  const pl = makeEvent({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { ban: 'lots', kick: ' 20 ', events: 7, users: { [BOB]: '30' }, users_default: [1] },
  });
  const view = powerLevelsFrom(room.rules, pl, room.create);
  assert.equal(view.ban, 50);
  assert.equal(view.kick, 20);
  assert.equal(view.eventLevel('m.room.message', false), 0);
  assert.equal(view.userLevel(BOB), 30);
  assert.equal(view.userLevel(CAROL), 0);
});

test('creators by version: content.creator (v1–v10), sender (v11), plus additional_creators (v12)', () => {
  const create = (v: string) =>
    makeEvent({ type: 'm.room.create', sender: ALICE, stateKey: '', content: { creator: BOB, additional_creators: [CAROL, 5] } });
  assert.deepEqual([...roomCreators(rulesOf('10'), create('10'))], [BOB]);
  assert.deepEqual([...roomCreators(rulesOf('11'), create('11'))], [ALICE]);
  assert.deepEqual([...roomCreators(rulesOf('12'), create('12'))], [ALICE, CAROL]);
  const v12 = powerLevelsFrom(rulesOf('12'), undefined, create('12'));
  assert.equal(v12.userLevel(ALICE), Infinity);
  assert.equal(v12.userLevel(CAROL), Infinity);
  assert.equal(v12.userLevel(BOB), 0);
  const v11 = powerLevelsFrom(rulesOf('11'), undefined, create('11'));
  assert.equal(v11.userLevel(ALICE), 100);
  assert.equal(v11.userLevel(CAROL), 0);
  assert.equal(v11.privilegedCreators.size, 0);
});
