import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from './json.ts';
import { redactContent, redactEvent } from './redaction.ts';
import { roomVersionRules } from './room-versions.ts';
import type { RoomVersionRules } from './room-versions.ts';

const rules = (id: string): RoomVersionRules => roomVersionRules(id)!;

// Every key any version keeps, plus keys none keeps.
const CONTENT: JsonObject = {
  membership: 'join',
  join_authorised_via_users_server: '@admin:example.org',
  third_party_invite: { display_name: 'Alice', signed: { mxid: '@alice:example.org', token: 'abc', signatures: {} } },
  displayname: 'Alice',
  creator: '@alice:example.org',
  room_version: '9',
  'm.federate': false,
  join_rule: 'restricted',
  allow: [{ type: 'm.room_membership', room_id: '!space:example.org' }],
  ban: 50,
  events: { 'm.room.name': 50 },
  events_default: 0,
  invite: 0,
  kick: 50,
  redact: 50,
  state_default: 50,
  users: { '@alice:example.org': 100 },
  users_default: 0,
  notifications: { room: 50 },
  history_visibility: 'shared',
  aliases: ['#a:example.org'],
  redacts: '$target',
  body: 'hello',
};

const EVENT: JsonObject = {
  event_id: '$ev:example.org',
  type: 'placeholder',
  room_id: '!room:example.org',
  sender: '@alice:example.org',
  state_key: '',
  content: CONTENT,
  hashes: { sha256: 'aGFzaA' },
  signatures: { 'example.org': { 'ed25519:1': 'c2ln' } },
  depth: 12,
  prev_events: ['$prev'],
  prev_state: [],
  auth_events: ['$auth'],
  origin: 'example.org',
  origin_server_ts: 1234,
  membership: 'join',
  unsigned: { age: 5, redacted_because: {} },
  redacts: '$target',
  age_ts: 99,
  extra: 'dropped',
};

const TOP_LEVEL_V1_TO_V10 = [
  'auth_events', 'content', 'depth', 'event_id', 'hashes', 'membership', 'origin', 'origin_server_ts',
  'prev_events', 'prev_state', 'room_id', 'sender', 'signatures', 'state_key', 'type',
];
const TOP_LEVEL_V11_V12 = [
  'auth_events', 'content', 'depth', 'event_id', 'hashes', 'origin_server_ts', 'prev_events', 'room_id',
  'sender', 'signatures', 'state_key', 'type',
];

const PL = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

// test-vectors.md §6, written out from the fragments rather than derived from the flags.
type ContentTable = Record<string, string[] | 'all'>;
const v1Content: ContentTable = {
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule'],
  'm.room.power_levels': PL,
  'm.room.history_visibility': ['history_visibility'],
  'm.room.aliases': ['aliases'],
  'm.room.redaction': [],
  'm.room.message': [],
  'org.example.custom': [],
};
const v6Content: ContentTable = { ...v1Content, 'm.room.aliases': [] };
const v8Content: ContentTable = { ...v6Content, 'm.room.join_rules': ['join_rule', 'allow'] };
const v9Content: ContentTable = { ...v8Content, 'm.room.member': ['membership', 'join_authorised_via_users_server'] };
const v11Content: ContentTable = {
  ...v9Content,
  'm.room.member': ['membership', 'join_authorised_via_users_server', 'third_party_invite'],
  'm.room.create': 'all',
  'm.room.power_levels': [...PL, 'invite'],
  'm.room.redaction': ['redacts'],
};

const table: [versions: string[], topLevel: string[], content: ContentTable, fragment: string][] = [
  [['1', '2', '3', '4', '5'], TOP_LEVEL_V1_TO_V10, v1Content, 'v1-redactions'],
  [['6', '7'], TOP_LEVEL_V1_TO_V10, v6Content, 'v6-redactions'],
  [['8'], TOP_LEVEL_V1_TO_V10, v8Content, 'v8.md § Redactions'],
  [['9', '10'], TOP_LEVEL_V1_TO_V10, v9Content, 'v9-redactions'],
  [['11', '12'], TOP_LEVEL_V11_V12, v11Content, 'v11-redactions'],
];

for (const [versions, topLevel, content, fragment] of table) {
  for (const version of versions) {
    test(`redaction in room v${version} (${fragment})`, () => {
      for (const [type, keptKeys] of Object.entries(content)) {
        const redacted = redactEvent({ ...EVENT, type }, rules(version));
        assert.deepEqual(Object.keys(redacted).sort(), topLevel, `${type}: top-level keys`);
        const expectedContent: JsonObject = {};
        if (keptKeys === 'all') Object.assign(expectedContent, CONTENT);
        else for (const key of keptKeys) expectedContent[key] = CONTENT[key]!;
        if (type === 'm.room.member' && keptKeys !== 'all' && keptKeys.includes('third_party_invite')) {
          // v11: only the `signed` part of `third_party_invite` survives.
          expectedContent['third_party_invite'] = { signed: { mxid: '@alice:example.org', token: 'abc', signatures: {} } };
        }
        assert.deepEqual(redacted['content'], expectedContent, `${type}: content`);
        for (const key of topLevel) {
          if (key !== 'content' && key !== 'type') assert.deepEqual(redacted[key], EVENT[key], key);
        }
      }
    });
  }
}

test('redaction never mutates its input, and is idempotent', () => {
  const snapshot = structuredClone(EVENT);
  for (const version of ['1', '9', '11', '12']) {
    const once = redactEvent({ ...EVENT, type: 'm.room.member' }, rules(version));
    assert.deepEqual(redactEvent(once, rules(version)), once);
  }
  assert.deepEqual(EVENT, snapshot);
});

test('redaction copes with malformed events (content not an object, odd types)', () => {
  assert.deepEqual(redactEvent({ type: 'm.room.member', content: 'x' }, rules('12')), { type: 'm.room.member', content: {} });
  assert.deepEqual(redactEvent({ type: 5, content: { membership: 'join' } }, rules('12')), { type: 5, content: {} });
  assert.deepEqual(redactEvent({}, rules('1')), { content: {} });
  // third_party_invite without `signed`, or not an object: dropped entirely.
  assert.deepEqual(redactContent('m.room.member', { membership: 'invite', third_party_invite: { display_name: 'x' } }, rules('11').redaction), { membership: 'invite' });
  assert.deepEqual(redactContent('m.room.member', { membership: 'invite', third_party_invite: 'x' }, rules('11').redaction), { membership: 'invite' });
  // Keys are read as own properties only.
  const hostile = JSON.parse('{"type":"m.room.create","content":{"__proto__":{"creator":"@evil:x"}}}') as JsonObject;
  assert.deepEqual(redactEvent(hostile, rules('1'))['content'], {});
  assert.equal(Object.getPrototypeOf(redactEvent(hostile, rules('12'))['content']), Object.prototype);
});
