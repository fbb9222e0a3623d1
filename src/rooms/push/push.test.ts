// Client-server § "Push Notifications" › "Push Rules": the evaluator against the spec's own
// examples, one test per condition kind and per default rule; appendices § "Dot-separated
// property paths" and § "Glob-style matching".

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject } from '../json.ts';
import {
  conditionMatches,
  defaultPushRules,
  effectiveRuleset,
  evaluatePushRules,
  parseDottedPath,
  valueAtPath,
  type PushContext,
  type PushRuleset,
} from './index.ts';

const ALICE = '@alice:example.org';
const BOB = '@bob:example.org';
const ROOM = '!636q39766251:example.com';

function ctx(overrides: Partial<PushContext> = {}): PushContext {
  return {
    userId: ALICE,
    displayName: 'Alice Liddell',
    memberCount: 5,
    senderPowerLevel: 0,
    notificationPowerLevels: () => 50,
    ...overrides,
  };
}

function message(content: JsonObject, extra: JsonObject = {}): JsonObject {
  return { type: 'm.room.message', sender: BOB, room_id: ROOM, event_id: '$e', content, ...extra };
}

describe('appendices § Dot-separated property paths', () => {
  test('splits on unescaped dots and resolves \\. and \\\\ escapes; other escapes stay literal', () => {
    assert.deepEqual(parseDottedPath('content.body'), ['content', 'body']);
    assert.deepEqual(parseDottedPath('content.m\\.relates_to'), ['content', 'm.relates_to']);
    assert.deepEqual(parseDottedPath('content.m\\\\foo'), ['content', 'm\\foo']);
    assert.deepEqual(parseDottedPath('content.m\\x'), ['content', 'm\\x']);
    assert.deepEqual(parseDottedPath('a\\\\.b'), ['a\\', 'b']);
  });

  test('looks values up through objects only', () => {
    const event = { content: { 'm.relates_to': { rel_type: 'm.replace' }, 'm\\foo': 1, list: [1] } };
    assert.equal(valueAtPath(event, 'content.m\\.relates_to.rel_type'), 'm.replace');
    assert.equal(valueAtPath(event, 'content.m.relates_to.rel_type'), undefined);
    assert.equal(valueAtPath(event, 'content.m\\\\foo'), 1);
    assert.equal(valueAtPath(event, 'content.list.0'), undefined);
    assert.equal(valueAtPath(event, 'content.__proto__'), undefined);
  });
});

describe('§ Conditions › event_match', () => {
  const topic = (value: unknown) => ({ type: 'm.room.topic', state_key: '', content: { topic: value } }) as JsonObject;
  const cond = { kind: 'event_match', key: 'content.topic', pattern: 'lunc?*' };

  test('the spec example: `lunc?*` matches "Lunch plans" and "LUNCH"', () => {
    assert.equal(conditionMatches(cond, topic('Lunch plans'), ctx()), true);
    assert.equal(conditionMatches(cond, topic('LUNCH'), ctx()), true);
  });

  test('the spec example: no match for " lunch", "lunc", null or an absent key', () => {
    assert.equal(conditionMatches(cond, topic(' lunch'), ctx()), false);
    assert.equal(conditionMatches(cond, topic('lunc'), ctx()), false);
    assert.equal(conditionMatches(cond, topic(null), ctx()), false);
    assert.equal(conditionMatches({ kind: 'event_match', key: 'content.nothing', pattern: '*' }, topic('x'), ctx()), false);
  });

  test('content.body matches at word boundaries: `ex*ple` (spec example)', () => {
    const body = { kind: 'event_match', key: 'content.body', pattern: 'ex*ple' };
    for (const text of ['An example event.', 'exple', 'An exciting triple-whammy']) {
      assert.equal(conditionMatches(body, message({ body: text }), ctx()), true, text);
    }
    assert.equal(conditionMatches(body, message({ body: 'Anexample' }), ctx()), false);
    assert.equal(conditionMatches(body, message({ body: 'examples' }), ctx()), false);
  });

  test('glob characters are the only special ones; regex metacharacters are literal', () => {
    const c = { kind: 'event_match', key: 'content.x', pattern: 'a.b(c)' };
    assert.equal(conditionMatches(c, message({ x: 'a.b(c)' }), ctx()), true);
    assert.equal(conditionMatches(c, message({ x: 'aXb(c)' }), ctx()), false);
  });

  test('an empty pattern matches only the empty string (the state_key "" conditions)', () => {
    const c = { kind: 'event_match', key: 'state_key', pattern: '' };
    assert.equal(conditionMatches(c, { state_key: '' }, ctx()), true);
    assert.equal(conditionMatches(c, { state_key: '@x:y' }, ctx()), false);
    assert.equal(conditionMatches(c, {}, ctx()), false);
  });
});

describe('§ Conditions › event_property_is / event_property_contains', () => {
  const create = { type: 'm.room.create', state_key: '', content: { 'm.federate': true, room_version: '1' } };

  test('event_property_is with an escaped key: content.m\\.federate is true (spec example)', () => {
    assert.equal(conditionMatches({ kind: 'event_property_is', key: 'content.m\\.federate', value: true }, create, ctx()), true);
  });

  test('no casting: "true" and 1 do not equal true', () => {
    for (const value of ['true', 1]) {
      const event = { ...create, content: { 'm.federate': value } };
      assert.equal(conditionMatches({ kind: 'event_property_is', key: 'content.m\\.federate', value: true }, event, ctx()), false);
    }
  });

  test('null is a comparable value; compound values never match', () => {
    assert.equal(conditionMatches({ kind: 'event_property_is', key: 'content.x', value: null }, { content: { x: null } }, ctx()), true);
    assert.equal(conditionMatches({ kind: 'event_property_is', key: 'content.x', value: null }, { content: { x: [] } }, ctx()), false);
  });

  test('event_property_contains: alt_aliases contains "#myroom:example.com" (spec example), not a partial value', () => {
    const event = { content: { alt_aliases: ['#somewhere:example.org', '#myroom:example.com'] } };
    assert.equal(conditionMatches({ kind: 'event_property_contains', key: 'content.alt_aliases', value: '#myroom:example.com' }, event, ctx()), true);
    assert.equal(conditionMatches({ kind: 'event_property_contains', key: 'content.alt_aliases', value: ':example.com' }, event, ctx()), false);
    assert.equal(conditionMatches({ kind: 'event_property_contains', key: 'content.alias', value: 'x' }, { content: { alias: 'x' } }, ctx()), false);
  });
});

describe('§ Conditions › room_member_count, sender_notification_permission, contains_display_name', () => {
  const count = (is: string, memberCount: number) => conditionMatches({ kind: 'room_member_count', is }, {}, ctx({ memberCount }));

  test('room_member_count: "2" and "==2" are equality; < > <= >= compare', () => {
    assert.equal(count('2', 2), true);
    assert.equal(count('==2', 2), true);
    assert.equal(count('==2', 3), false);
    assert.equal(count('>=3', 3), true);
    assert.equal(count('>=3', 2), false);
    assert.equal(count('<=10', 10), true);
    assert.equal(count('<10', 10), false);
    assert.equal(count('>1', 2), true);
  });

  test('room_member_count: malformed `is` never matches', () => {
    for (const is of ['', '=2', '2.5', '>=', 'two', ' 2']) assert.equal(count(is, 2), false, is);
  });

  test('sender_notification_permission compares the sender level with notifications[key]', () => {
    const c = { kind: 'sender_notification_permission', key: 'room' };
    assert.equal(conditionMatches(c, {}, ctx({ senderPowerLevel: 50 })), true);
    assert.equal(conditionMatches(c, {}, ctx({ senderPowerLevel: 49 })), false);
    assert.equal(conditionMatches(c, {}, ctx({ senderPowerLevel: Infinity })), true);
    assert.equal(conditionMatches({ kind: 'sender_notification_permission' }, {}, ctx({ senderPowerLevel: 100 })), false);
  });

  test('contains_display_name matches the name literally at word boundaries', () => {
    const c = { kind: 'contains_display_name' };
    assert.equal(conditionMatches(c, message({ body: 'hi alice liddell!' }), ctx()), true);
    assert.equal(conditionMatches(c, message({ body: 'hi Alice Liddells' }), ctx()), false);
    assert.equal(conditionMatches(c, message({ body: 'anything' }), ctx({ displayName: '*' })), false);
    assert.equal(conditionMatches(c, message({ body: 'hi' }), ctx({ displayName: undefined })), false);
  });

  test('unknown condition kinds never match', () => {
    assert.equal(conditionMatches({ kind: 'org.example.always' }, {}, ctx()), false);
  });
});

describe('§ Predefined Rules: each default rule', () => {
  const rules = defaultPushRules(ALICE);
  const evaluate = (event: JsonObject, c: Partial<PushContext> = {}, set: PushRuleset = rules) => evaluatePushRules(set, event, ctx(c));

  test('the spec order of override and underride rules', () => {
    assert.deepEqual(rules.override.map((r) => r.rule_id), [
      '.m.rule.master', '.m.rule.suppress_notices', '.m.rule.invite_for_me', '.m.rule.member_event',
      '.m.rule.is_user_mention', '.m.rule.is_room_mention', '.m.rule.tombstone', '.m.rule.reaction',
      '.m.rule.room.server_acl', '.m.rule.suppress_edits',
    ]);
    assert.deepEqual(rules.underride.map((r) => r.rule_id), [
      '.m.rule.call', '.m.rule.encrypted_room_one_to_one', '.m.rule.room_one_to_one', '.m.rule.message', '.m.rule.encrypted',
    ]);
    assert.deepEqual([rules.content, rules.room, rules.sender], [[], [], []]);
    assert.ok([...rules.override, ...rules.underride].every((r) => r.default && r.rule_id.startsWith('.')));
  });

  test('.m.rule.master is disabled; enabled, it silences everything', () => {
    assert.equal(rules.override[0]?.enabled, false);
    const muted = effectiveRuleset(ALICE, { rules: {}, defaultChanges: new Map([['override/.m.rule.master', { enabled: true }]]) });
    const result = evaluate(message({ body: 'hi', 'm.mentions': { user_ids: [ALICE] } }), {}, muted);
    assert.equal(result.rule?.ruleId, '.m.rule.master');
    assert.equal(result.notify, false);
  });

  test('.m.rule.suppress_notices', () => {
    const r = evaluate(message({ msgtype: 'm.notice', body: 'bot says' }));
    assert.deepEqual([r.rule?.ruleId, r.notify], ['.m.rule.suppress_notices', false]);
  });

  test('.m.rule.invite_for_me notifies with the default sound; others\' invites fall to member_event', () => {
    const invite = (target: string) => ({ type: 'm.room.member', state_key: target, sender: BOB, room_id: ROOM, content: { membership: 'invite' } });
    const mine = evaluate(invite(ALICE));
    assert.deepEqual([mine.rule?.ruleId, mine.notify, mine.sound, mine.highlight], ['.m.rule.invite_for_me', true, 'default', false]);
    const other = evaluate(invite('@carol:example.org'));
    assert.deepEqual([other.rule?.ruleId, other.notify], ['.m.rule.member_event', false]);
  });

  test('.m.rule.is_user_mention highlights with sound', () => {
    const r = evaluate(message({ body: 'hey', 'm.mentions': { user_ids: [ALICE] } }));
    assert.deepEqual([r.rule?.ruleId, r.notify, r.highlight, r.sound], ['.m.rule.is_user_mention', true, true, 'default']);
  });

  test('.m.rule.is_room_mention needs the sender to have notifications.room', () => {
    const event = message({ body: '@room', 'm.mentions': { room: true } });
    const allowed = evaluate(event, { senderPowerLevel: 50 });
    assert.deepEqual([allowed.rule?.ruleId, allowed.highlight], ['.m.rule.is_room_mention', true]);
    const denied = evaluate(event, { senderPowerLevel: 0 });
    assert.deepEqual([denied.rule?.ruleId, denied.highlight], ['.m.rule.message', false]);
  });

  test('.m.rule.tombstone only for the state event with an empty state key', () => {
    const r = evaluate({ type: 'm.room.tombstone', state_key: '', sender: BOB, content: {} });
    assert.deepEqual([r.rule?.ruleId, r.highlight], ['.m.rule.tombstone', true]);
    assert.equal(evaluate({ type: 'm.room.tombstone', sender: BOB, content: {} }).rule, undefined);
  });

  test('.m.rule.reaction, .m.rule.room.server_acl and .m.rule.suppress_edits suppress', () => {
    assert.equal(evaluate({ type: 'm.reaction', sender: BOB, content: {} }).rule?.ruleId, '.m.rule.reaction');
    assert.equal(evaluate({ type: 'm.room.server_acl', state_key: '', sender: BOB, content: {} }).rule?.ruleId, '.m.rule.room.server_acl');
    const edit = evaluate(message({ body: '* hi', 'm.new_content': { body: 'hi' }, 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } }));
    assert.deepEqual([edit.rule?.ruleId, edit.notify], ['.m.rule.suppress_edits', false]);
  });

  test('.m.rule.call rings', () => {
    const r = evaluate({ type: 'm.call.invite', sender: BOB, content: {} });
    assert.deepEqual([r.rule?.ruleId, r.sound], ['.m.rule.call', 'ring']);
  });

  test('one-to-one rooms: encrypted_room_one_to_one and room_one_to_one with sound; larger rooms: message, encrypted', () => {
    const enc = { type: 'm.room.encrypted', sender: BOB, content: { algorithm: 'm.megolm.v1.aes-sha2' } };
    assert.deepEqual([evaluate(enc, { memberCount: 2 }).rule?.ruleId, evaluate(enc, { memberCount: 2 }).sound], ['.m.rule.encrypted_room_one_to_one', 'default']);
    assert.deepEqual([evaluate(message({ body: 'x' }), { memberCount: 2 }).rule?.ruleId], ['.m.rule.room_one_to_one']);
    const group = evaluate(message({ body: 'x' }), { memberCount: 3 });
    assert.deepEqual([group.rule?.ruleId, group.notify, group.sound], ['.m.rule.message', true, undefined]);
    assert.equal(evaluate(enc, { memberCount: 3 }).rule?.ruleId, '.m.rule.encrypted');
  });

  test('the user\'s own events never notify; unmatched types do not either', () => {
    assert.equal(evaluate(message({ body: 'x' }, { sender: ALICE })).notify, false);
    assert.equal(evaluate({ type: 'org.example.custom', sender: BOB, content: {} }).rule, undefined);
  });
});

describe('§ Push Rules: user rules, kinds and actions', () => {
  test('kinds are checked in order: content beats room, sender and underride; override beats content', () => {
    const set = effectiveRuleset(ALICE, {
      rules: {
        content: [{ rule_id: 'cake', default: false, enabled: true, pattern: 'cake', actions: ['notify', { set_tweak: 'sound', value: 'cakealarm.wav' }] }],
        room: [{ rule_id: ROOM, default: false, enabled: true, actions: [] }],
        sender: [{ rule_id: BOB, default: false, enabled: true, actions: ['dont_notify'] }],
      },
      defaultChanges: new Map(),
    });
    const cake = evaluatePushRules(set, message({ body: 'time for Cake!' }), ctx());
    assert.deepEqual([cake.rule?.kind, cake.sound], ['content', 'cakealarm.wav']);
    const plain = evaluatePushRules(set, message({ body: 'time for tea' }), ctx());
    assert.deepEqual([plain.rule?.kind, plain.notify], ['room', false]);
    const elsewhere = evaluatePushRules(set, message({ body: 'tea' }, { room_id: '!other:x' }), ctx());
    assert.deepEqual([elsewhere.rule?.kind, elsewhere.actions], ['sender', []], 'dont_notify is stripped');
    const notice = evaluatePushRules(set, message({ body: 'cake', msgtype: 'm.notice' }), ctx());
    assert.equal(notice.rule?.ruleId, '.m.rule.suppress_notices');
  });

  test('user override rules come after master and before the other default overrides', () => {
    const set = effectiveRuleset(ALICE, {
      rules: { override: [{ rule_id: 'beer', default: false, enabled: true, conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'beer' }, { kind: 'room_member_count', is: '<=10' }], actions: ['notify'] }] },
      defaultChanges: new Map(),
    });
    assert.deepEqual(set.override.slice(0, 3).map((r) => r.rule_id), ['.m.rule.master', 'beer', '.m.rule.suppress_notices']);
    const r = evaluatePushRules(set, message({ body: 'beer?', msgtype: 'm.notice' }), ctx({ memberCount: 10 }));
    assert.equal(r.rule?.ruleId, 'beer');
    assert.equal(evaluatePushRules(set, message({ body: 'beer?' }), ctx({ memberCount: 11 })).rule?.ruleId, '.m.rule.message');
  });

  test('a disabled default rule is skipped and changed actions apply', () => {
    const set = effectiveRuleset(ALICE, {
      rules: {},
      defaultChanges: new Map([
        ['underride/.m.rule.message', { enabled: false }],
        ['underride/.m.rule.call', { actions: ['notify', { set_tweak: 'highlight', value: false }] }],
      ]),
    });
    assert.equal(evaluatePushRules(set, message({ body: 'x' }), ctx()).rule, undefined);
    const call = evaluatePushRules(set, { type: 'm.call.invite', sender: BOB, content: {} }, ctx());
    assert.deepEqual([call.notify, call.highlight, call.tweaks], [true, false, { highlight: false }]);
  });
});
