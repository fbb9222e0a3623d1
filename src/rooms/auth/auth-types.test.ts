// content/server-server-api.md "Auth events selection".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../json.ts';
import { authTypesForEvent } from './auth-types.ts';
import { ALICE, ALL_VERSIONS, BOB, CAROL, rulesOf } from './testing.ts';

const select = (v: string, type: string, sender: string, stateKey: string | undefined, content: JsonObject) =>
  authTypesForEvent(rulesOf(v), { type, sender, stateKey, content }).map(([t, k]) => `${t}|${k}`);

test('the create event selects nothing', () => {
  for (const v of ALL_VERSIONS) assert.deepEqual(select(v, 'm.room.create', ALICE, '', {}), []);
});

test('create (not in v12), power levels and the sender’s member event for any event', () => {
  for (const v of ALL_VERSIONS) {
    const base = ['m.room.power_levels|', `m.room.member|${ALICE}`];
    const expected = rulesOf(v).format.createInAuthEvents ? ['m.room.create|', ...base] : base;
    assert.deepEqual(select(v, 'm.room.message', ALICE, undefined, { body: 'x' }), expected, `v${v}`);
  }
});

test('member events add the target, join rules, third-party invite and authorising user', () => {
  const v = '12';
  assert.deepEqual(select(v, 'm.room.member', ALICE, BOB, { membership: 'invite' }), [
    'm.room.power_levels|',
    `m.room.member|${ALICE}`,
    `m.room.member|${BOB}`,
    'm.room.join_rules|',
  ]);
  assert.deepEqual(select(v, 'm.room.member', ALICE, ALICE, { membership: 'leave' }), ['m.room.power_levels|', `m.room.member|${ALICE}`]);
  assert.ok(select(v, 'm.room.member', BOB, BOB, { membership: 'knock' }).includes('m.room.join_rules|'));
  assert.ok(!select(v, 'm.room.member', ALICE, BOB, { membership: 'ban' }).includes('m.room.join_rules|'));
  const thirdParty = { membership: 'invite', third_party_invite: { signed: { token: 'tok', mxid: BOB } } };
  assert.ok(select(v, 'm.room.member', ALICE, BOB, thirdParty).includes('m.room.third_party_invite|tok'));
  // A malformed third_party_invite selects no third-party invite event.
  const malformed = select(v, 'm.room.member', ALICE, BOB, { membership: 'invite', third_party_invite: { signed: { token: 5 } } });
  assert.ok(!malformed.some((k) => k.startsWith('m.room.third_party_invite')));

  const restricted = { membership: 'join', join_authorised_via_users_server: CAROL };
  for (const version of ALL_VERSIONS) {
    const selected = select(version, 'm.room.member', BOB, BOB, restricted).includes(`m.room.member|${CAROL}`);
    assert.equal(selected, rulesOf(version).auth.restrictedJoinRule, `v${version}`);
  }
  // Only for joins.
  assert.ok(!select(v, 'm.room.member', BOB, BOB, { membership: 'leave', join_authorised_via_users_server: CAROL }).includes(`m.room.member|${CAROL}`));
});
