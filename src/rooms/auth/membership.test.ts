// The m.room.member rule of every version (v1–v5 rule 5, v6–v11 rule 4, v12 rule 5):
// fragments/v1-auth-rules.md, v8-auth-rules.md, v7.md, v10.md, v11.md, v12.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../json.ts';
import { joinRule, memberRule } from './rule-numbers.ts';
import { ALICE, ALL_VERSIONS, BOB, CAROL, DAVE, makeRoom, outcome, versionsWhere } from './testing.ts';
import type { Room } from './testing.ts';

const member = (room: Room, sender: string, target: string, content: JsonObject, extra: { prevEvents?: string[]; signedBy?: string[] } = {}) =>
  room.event({ type: 'm.room.member', sender, stateKey: target, content, ...extra });

/** Power levels naming the creator only before v12 (v12 creators cannot be named). */
function levels(room: Room, users: JsonObject, rest: JsonObject = {}): JsonObject {
  return { users: room.rules.auth.privilegeCreators ? users : { [room.creator]: 100, ...users }, ...rest };
}

test('member .1: a state_key and content.membership are required', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const noKey = room.event({ type: 'm.room.member', sender: BOB, content: { membership: 'join' } });
    assert.equal(outcome(room.authorize(noKey)), memberRule(room.rules, 'shape'), `v${v}`);
    assert.equal(outcome(room.authorize(member(room, BOB, BOB, {}))), memberRule(room.rules, 'shape'), `v${v}`);
    // Present but not a string: an unknown membership.
    assert.equal(outcome(room.authorize(member(room, BOB, BOB, { membership: 1 }))), memberRule(room.rules, 'unknown'), `v${v}`);
    assert.equal(outcome(room.authorize(member(room, BOB, BOB, { membership: 'JOIN' }))), memberRule(room.rules, 'unknown'), `v${v}`);
  }
});

test('member .2 (v8+): join_authorised_via_users_server requires that server to have signed', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const via = (value: JsonObject[string], signedBy: string[] = []) =>
      member(room, BOB, BOB, { membership: 'join', join_authorised_via_users_server: value }, { signedBy });
    if (room.rules.auth.restrictedJoinRule) {
      const rule = memberRule(room.rules, 'authorisedVia');
      assert.equal(outcome(room.authorize(via(ALICE))), rule, `v${v} unsigned`);
      assert.equal(outcome(room.authorize(via(ALICE, ['a.example']))), 'allow', `v${v} signed (public room)`);
      assert.equal(outcome(room.authorize(via(42, ['a.example']))), rule, `v${v} not a string`);
      assert.equal(outcome(room.authorize(via('nocolon', ['a.example']))), rule, `v${v} no server`);
      // Applies to every membership, not only joins.
      room.setMember(BOB, 'join');
      const leave = member(room, BOB, BOB, { membership: 'leave', join_authorised_via_users_server: ALICE });
      assert.equal(outcome(room.authorize(leave)), rule, `v${v} leave`);
    } else {
      assert.equal(outcome(room.authorize(via(ALICE))), 'allow', `v${v} ignored before v8`);
    }
  }
});

test('join .1: the creator’s first join right after the create event', () => {
  for (const v of ALL_VERSIONS) {
    // content.creator names Bob while Alice sends the create event.
    const room = makeRoom(v, { createContent: { creator: BOB }, joinRule: 'invite' });
    const first = (target: string) => member(room, target, target, { membership: 'join' }, { prevEvents: [room.create.eventId] });
    const creatorByVersion = room.rules.auth.useCreateSender ? ALICE : BOB;
    const other = creatorByVersion === ALICE ? BOB : ALICE;
    assert.equal(outcome(room.authorize(first(creatorByVersion), { state: (t, k) => (t === 'm.room.create' ? room.create : undefined) })), 'allow', `v${v}`);
    // Anyone else falls through to the join rule (invite-only, not invited).
    room.setMember(ALICE, 'leave');
    assert.equal(outcome(room.authorize(first(other))), joinRule(room.rules, 'inviteRule'), `v${v}`);
    // Two prev events: not the first join.
    const late = member(room, creatorByVersion, creatorByVersion, { membership: 'join' }, { prevEvents: [room.create.eventId, '$x:a.example'] });
    assert.equal(outcome(room.authorize(late)), joinRule(room.rules, 'inviteRule'), `v${v}`);
    // One prev event that is not the create event: not the first join either.
    const notAfterCreate = member(room, creatorByVersion, creatorByVersion, { membership: 'join' }, { prevEvents: ['$x:a.example'] });
    assert.equal(outcome(room.authorize(notAfterCreate)), joinRule(room.rules, 'inviteRule'), `v${v}`);
  }
});

test('join .2 / .3: only oneself, never while banned', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    assert.equal(outcome(room.authorize(member(room, ALICE, BOB, { membership: 'join' }))), joinRule(room.rules, 'selfOnly'), `v${v}`);
    room.setMember(BOB, 'ban');
    assert.equal(outcome(room.authorize(member(room, BOB, BOB, { membership: 'join' }))), joinRule(room.rules, 'banned'), `v${v}`);
  }
});

test('join .4: invite (and v7+ knock) rooms admit the invited and the joined', () => {
  for (const v of ALL_VERSIONS) {
    for (const rule of ['invite', 'knock']) {
      const room = makeRoom(v, { joinRule: rule });
      const join = member(room, BOB, BOB, { membership: 'join' });
      const inviteLike = rule === 'invite' || room.rules.auth.knocking;
      const denied = inviteLike ? joinRule(room.rules, 'inviteRule') : joinRule(room.rules, 'reject');
      assert.equal(outcome(room.authorize(join)), denied, `v${v} ${rule} stranger`);
      room.setMember(BOB, 'invite');
      assert.equal(outcome(room.authorize(join)), inviteLike ? 'allow' : denied, `v${v} ${rule} invited`);
      room.setMember(BOB, 'join');
      assert.equal(outcome(room.authorize(join)), inviteLike ? 'allow' : denied, `v${v} ${rule} joined`);
      room.setMember(BOB, 'knock');
      assert.equal(outcome(room.authorize(join)), denied, `v${v} ${rule} knocked`);
    }
  }
});

test('join .5 (v8+ restricted, v10+ knock_restricted): via a joined member able to invite', () => {
  for (const v of ALL_VERSIONS) {
    for (const rule of ['restricted', 'knock_restricted']) {
      const room = makeRoom(v, { joinRule: rule });
      const supported = rule === 'restricted' ? room.rules.auth.restrictedJoinRule : room.rules.auth.knockRestrictedJoinRule;
      room.setPowerLevels(levels(room, { [DAVE]: 0, [CAROL]: 50 }, { invite: 50 }));
      room.setMember(CAROL, 'join');
      room.setMember(DAVE, 'join');
      const via = (authoriser?: string) =>
        member(room, BOB, BOB, { membership: 'join', ...(authoriser ? { join_authorised_via_users_server: authoriser } : {}) }, {
          signedBy: authoriser ? ['a.example', 'c.example'] : [],
        });
      if (!supported) {
        assert.equal(outcome(room.authorize(via(CAROL))), joinRule(room.rules, 'reject'), `v${v} ${rule} unsupported`);
        continue;
      }
      const denied = `${joinRule(room.rules, 'restricted')}.2`;
      assert.equal(outcome(room.authorize(via(CAROL))), 'allow', `v${v} ${rule} via Carol`);
      assert.equal(outcome(room.authorize(via())), denied, `v${v} ${rule} no authoriser`);
      assert.equal(outcome(room.authorize(via(DAVE))), denied, `v${v} ${rule} authoriser cannot invite`);
      room.setMember(CAROL, 'leave');
      assert.equal(outcome(room.authorize(via(CAROL))), denied, `v${v} ${rule} authoriser not joined`);
      // .5.1: the invited need no authoriser.
      room.setMember(BOB, 'invite');
      assert.equal(outcome(room.authorize(via())), 'allow', `v${v} ${rule} invited`);
    }
  }
});

test('join .6 / .7: public rooms admit anyone; other join rules reject', () => {
  for (const v of ALL_VERSIONS) {
    const join = (room: Room) => member(room, BOB, BOB, { membership: 'join' });
    const open = makeRoom(v, { joinRule: 'public' });
    assert.equal(outcome(open.authorize(join(open))), 'allow', `v${v}`);
    for (const rule of ['private', 'PUBLIC']) {
      const closed = makeRoom(v, { joinRule: rule });
      assert.equal(outcome(closed.authorize(join(closed))), joinRule(closed.rules, 'reject'), `v${v} ${rule}`);
    }
    const malformed = makeRoom(v, { joinRule: null });
    malformed.put(malformed.event({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: ['public'] } }));
    assert.equal(outcome(malformed.authorize(join(malformed))), joinRule(malformed.rules, 'reject'), `v${v} malformed`);
    // No join rules event at all: treated as invite-only.
    const none = makeRoom(v, { joinRule: null });
    assert.equal(outcome(none.authorize(join(none))), joinRule(none.rules, 'inviteRule'), `v${v} none`);
  }
});

test('invite .2–.5: a joined sender with the invite level, a target neither joined nor banned', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const rule = memberRule(room.rules, 'invite');
    room.setPowerLevels(levels(room, { [BOB]: 10 }, { invite: 20 }));
    const invite = (sender: string) => member(room, sender, CAROL, { membership: 'invite' });
    assert.equal(outcome(room.authorize(invite(BOB))), `${rule}.2`, `v${v} sender not joined`);
    room.setMember(BOB, 'join');
    assert.equal(outcome(room.authorize(invite(BOB))), `${rule}.5`, `v${v} invite by someone without power`);
    assert.equal(outcome(room.authorize(invite(ALICE))), 'allow', `v${v} creator invites`);
    for (const membership of ['join', 'ban']) {
      room.setMember(CAROL, membership);
      assert.equal(outcome(room.authorize(invite(ALICE))), `${rule}.3`, `v${v} target ${membership}`);
    }
    room.setMember(CAROL, 'leave');
    assert.equal(outcome(room.authorize(invite(ALICE))), 'allow', `v${v} re-invite after leave`);
  }
});

test('invite .1: third-party invites, signature checked against the invite’s public keys', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const rule = `${memberRule(room.rules, 'invite')}.1`;
    room.setMember(BOB, 'join');
    room.put(room.event({ type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: { public_key: 'K1', public_keys: [{ public_key: 'K2' }, { nope: 1 }, 'K3'] } }));
    const signed = (extra: JsonObject = {}) => ({ mxid: CAROL, token: 'tok', signatures: { 'id.example': { 'ed25519:0': 'valid-for:K2' } }, ...extra });
    const invite = (thirdPartyInvite: JsonObject[string], sender = BOB) =>
      member(room, sender, CAROL, { membership: 'invite', third_party_invite: thirdPartyInvite });

    assert.equal(outcome(room.authorize(invite({ signed: signed() }))), 'allow', `v${v} public_keys`);
    assert.equal(outcome(room.authorize(invite({ signed: signed({ signatures: { s: { k: 'valid-for:K1' } } }) }))), 'allow', `v${v} public_key`);
    // .8: a bad signature (K3 is not an object entry, so not a key).
    assert.equal(outcome(room.authorize(invite({ signed: signed({ signatures: { s: { k: 'valid-for:K3' } } }) }))), `${rule}.8`, `v${v} bad signature`);
    assert.equal(outcome(room.authorize(invite({ signed: signed({ signatures: 'x' }) }))), `${rule}.8`, `v${v}`);
    // .2
    assert.equal(outcome(room.authorize(invite({}))), `${rule}.2`, `v${v} no signed`);
    assert.equal(outcome(room.authorize(invite('x'))), `${rule}.2`, `v${v} not an object`);
    assert.equal(outcome(room.authorize(invite(null))), `${rule}.2`, `v${v} null`);
    assert.equal(outcome(room.authorize(invite({ signed: [1] }))), `${rule}.2`, `v${v} signed array`);
    // .3
    assert.equal(outcome(room.authorize(invite({ signed: { token: 'tok' } }))), `${rule}.3`, `v${v} no mxid`);
    assert.equal(outcome(room.authorize(invite({ signed: { mxid: CAROL } }))), `${rule}.3`, `v${v} no token`);
    // .4
    assert.equal(outcome(room.authorize(invite({ signed: signed({ mxid: DAVE }) }))), `${rule}.4`, `v${v} mxid`);
    assert.equal(outcome(room.authorize(invite({ signed: signed({ mxid: 7 }) }))), `${rule}.4`, `v${v} mxid number`);
    // .5
    assert.equal(outcome(room.authorize(invite({ signed: signed({ token: 'other' }) }))), `${rule}.5`, `v${v} token`);
    assert.equal(outcome(room.authorize(invite({ signed: signed({ token: 5 }) }))), `${rule}.5`, `v${v} token number`);
    // .6
    assert.equal(outcome(room.authorize(invite({ signed: signed() }, ALICE))), `${rule}.6`, `v${v} other sender`);
    // .1: the target is banned
    room.setMember(CAROL, 'ban');
    assert.equal(outcome(room.authorize(invite({ signed: signed() }))), `${rule}.1`, `v${v} banned target`);
  }
});

test('leave .1–.5: leaving, rejecting, kicking and unbanning', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const rule = memberRule(room.rules, 'leave');
    room.setPowerLevels(levels(room, { [BOB]: 50, [CAROL]: 50, [DAVE]: 10 }, { kick: 50, ban: 60 }));
    const leave = (sender: string, target: string) => member(room, sender, target, { membership: 'leave' });

    for (const [membership, allowed] of [['join', true], ['invite', true], ['knock', room.rules.auth.knocking], ['leave', false], ['ban', false]] as const) {
      room.setMember(DAVE, membership);
      assert.equal(outcome(room.authorize(leave(DAVE, DAVE))), allowed ? 'allow' : `${rule}.1`, `v${v} self from ${membership}`);
    }
    room.setMember(DAVE, 'join');
    assert.equal(outcome(room.authorize(leave(BOB, DAVE))), `${rule}.2`, `v${v} kicker not joined`);
    room.setMember(BOB, 'join');
    room.setMember(CAROL, 'join');
    assert.equal(outcome(room.authorize(leave(BOB, DAVE))), 'allow', `v${v} kick`);
    assert.equal(outcome(room.authorize(leave(BOB, CAROL))), `${rule}.5`, `v${v} kick an equal`);
    assert.equal(outcome(room.authorize(leave(BOB, ALICE))), `${rule}.5`, `v${v} kick the creator`);
    assert.equal(outcome(room.authorize(leave(DAVE, BOB))), `${rule}.5`, `v${v} kick below kick level`);
    room.setMember(DAVE, 'ban');
    assert.equal(outcome(room.authorize(leave(BOB, DAVE))), `${rule}.3`, `v${v} unban below ban level`);
    assert.equal(outcome(room.authorize(leave(ALICE, DAVE))), 'allow', `v${v} unban`);
  }
});

test('ban .1–.3: a joined sender at the ban level, above the target', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const rule = memberRule(room.rules, 'ban');
    room.setPowerLevels(levels(room, { [BOB]: 50, [CAROL]: 50, [DAVE]: 10 }, { ban: 50 }));
    const ban = (sender: string, target: string) => member(room, sender, target, { membership: 'ban' });
    assert.equal(outcome(room.authorize(ban(BOB, DAVE))), `${rule}.1`, `v${v} sender not joined`);
    room.setMember(BOB, 'join');
    room.setMember(DAVE, 'join');
    assert.equal(outcome(room.authorize(ban(BOB, DAVE))), 'allow', `v${v}`);
    assert.equal(outcome(room.authorize(ban(BOB, '@stranger:x.example'))), 'allow', `v${v} ban a non-member`);
    assert.equal(outcome(room.authorize(ban(BOB, CAROL))), `${rule}.3`, `v${v} ban an equal`);
    assert.equal(outcome(room.authorize(ban(BOB, ALICE))), `${rule}.3`, `v${v} ban above own level`);
    assert.equal(outcome(room.authorize(ban(DAVE, '@stranger:x.example'))), `${rule}.3`, `v${v} below ban level`);
  }
});

test('knock (v7+): only on knock (v10+ knock_restricted) rooms, only oneself, not when in/invited/banned', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v, { joinRule: 'knock' });
    const knock = (sender: string, target: string) => member(room, sender, target, { membership: 'knock' });
    if (!room.rules.auth.knocking) {
      assert.equal(outcome(room.authorize(knock(BOB, BOB))), memberRule(room.rules, 'unknown'), `v${v} knocking rejected`);
      continue;
    }
    const rule = memberRule(room.rules, 'knock');
    assert.equal(outcome(room.authorize(knock(BOB, BOB))), 'allow', `v${v}`);
    assert.equal(outcome(room.authorize(knock(BOB, CAROL))), `${rule}.2`, `v${v} for another`);
    for (const membership of ['ban', 'invite', 'join']) {
      room.setMember(BOB, membership);
      assert.equal(outcome(room.authorize(knock(BOB, BOB))), `${rule}.4`, `v${v} from ${membership}`);
    }
    room.setMember(BOB, 'leave');
    assert.equal(outcome(room.authorize(knock(BOB, BOB))), 'allow', `v${v} after leaving`);
    for (const joinRuleName of ['public', 'invite', 'restricted', 'knock_restricted']) {
      room.setJoinRule(joinRuleName);
      const allowed = joinRuleName === 'knock_restricted' && room.rules.auth.knockRestrictedJoinRule;
      assert.equal(outcome(room.authorize(knock(BOB, BOB))), allowed ? 'allow' : `${rule}.1`, `v${v} ${joinRuleName}`);
    }
  }
});

test('v12: creators (sender + additional_creators) have infinite power', () => {
  const room = makeRoom('12', { createContent: { additional_creators: [CAROL] } });
  room.setPowerLevels({ users: { [BOB]: 9007199254740991 }, ban: 50, kick: 50 });
  room.setMember(BOB, 'join');
  room.setMember(CAROL, 'join');
  const act = (sender: string, target: string, membership: string) => member(room, sender, target, { membership });
  // Even the highest possible level cannot kick or ban a creator.
  assert.equal(outcome(room.authorize(act(BOB, ALICE, 'ban'))), '5.6.3');
  assert.equal(outcome(room.authorize(act(BOB, CAROL, 'leave'))), '5.5.5');
  // Creators act on anyone else; between creators, neither is above the other.
  assert.equal(outcome(room.authorize(act(CAROL, BOB, 'ban'))), 'allow');
  assert.equal(outcome(room.authorize(act(ALICE, CAROL, 'leave'))), '5.5.5');
  // v11 has no such privilege: additional_creators means nothing there.
  const v11 = makeRoom('11', { createContent: { additional_creators: [CAROL] } });
  v11.setPowerLevels({ users: { [ALICE]: 100, [BOB]: 60 } });
  v11.setMember(BOB, 'join');
  v11.setMember(CAROL, 'join');
  assert.equal(outcome(v11.authorize(member(v11, BOB, CAROL, { membership: 'ban' }))), 'allow');
});

test('v1–v11 without power levels: the creator has 100, everyone else 0', () => {
  for (const v of versionsWhere((r) => !r.auth.privilegeCreators)) {
    const room = makeRoom(v, { powerLevels: null });
    room.setMember(BOB, 'join');
    assert.equal(outcome(room.authorize(member(room, ALICE, BOB, { membership: 'ban' }))), 'allow', `v${v}`);
    assert.equal(outcome(room.authorize(member(room, BOB, ALICE, { membership: 'ban' }))), `${memberRule(room.rules, 'ban')}.3`, `v${v}`);
  }
});
