// Rule 1, m.room.create: fragments/v1-auth-rules.md, v11.md, v12.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../json.ts';
import { ALICE, ALL_VERSIONS, makeEvent, outcome, rulesOf, versionsWhere } from './testing.ts';
import { authorizeEvent } from './authorize.ts';
import type { AuthContext } from './types.ts';

const emptyCtx = (version: string): AuthContext => ({
  rules: rulesOf(version),
  state: () => undefined,
  isSignedBy: () => true,
  verifyThirdPartySignature: () => false,
});

function create(version: string, overrides: { content?: JsonObject; roomId?: string | undefined; prevEvents?: string[]; sender?: string } = {}) {
  const rules = rulesOf(version);
  const content: JsonObject = overrides.content ?? (rules.auth.useCreateSender ? {} : { creator: ALICE });
  return makeEvent({
    type: 'm.room.create',
    sender: overrides.sender ?? ALICE,
    stateKey: '',
    content,
    roomId: 'roomId' in overrides ? overrides.roomId : rules.format.createHasRoomId ? '!r:a.example' : undefined,
    prevEvents: overrides.prevEvents ?? [],
  });
}

test('rule 1: a well-formed create event is allowed in every version', () => {
  for (const v of ALL_VERSIONS) assert.equal(outcome(authorizeEvent(create(v), emptyCtx(v))), 'allow', `v${v}`);
});

test('rule 1.1: a create event with prev_events is rejected', () => {
  for (const v of ALL_VERSIONS) {
    assert.equal(outcome(authorizeEvent(create(v, { prevEvents: ['$x:a.example'] }), emptyCtx(v))), '1.1', `v${v}`);
  }
});

test('rule 1.2 (v1–v11): the room ID domain must match the sender domain', () => {
  for (const v of versionsWhere((r) => r.format.createHasRoomId)) {
    assert.equal(outcome(authorizeEvent(create(v, { roomId: '!r:b.example' }), emptyCtx(v))), '1.2', `v${v}`);
    assert.equal(outcome(authorizeEvent(create(v, { roomId: undefined }), emptyCtx(v))), '1.2', `v${v}`);
    // The domain includes the port.
    assert.equal(outcome(authorizeEvent(create(v, { roomId: '!r:a.example:8448' }), emptyCtx(v))), '1.2', `v${v}`);
  }
});

test('rule 1.2 (v12): a create event carrying a room_id is rejected', () => {
  assert.equal(outcome(authorizeEvent(create('12', { roomId: '!r:a.example' }), emptyCtx('12'))), '1.2');
});

test('rule 1.3: room_version must be recognised when present', () => {
  for (const v of ALL_VERSIONS) {
    const base = rulesOf(v).auth.useCreateSender ? {} : { creator: ALICE };
    const withVersion = (room_version: JsonObject[string]) => create(v, { content: { ...base, room_version } });
    assert.equal(outcome(authorizeEvent(withVersion('11'), emptyCtx(v))), 'allow', `v${v}`);
    assert.equal(outcome(authorizeEvent(withVersion('13'), emptyCtx(v))), '1.3', `v${v}`);
    assert.equal(outcome(authorizeEvent(withVersion(12), emptyCtx(v))), '1.3', `v${v}`);
  }
});

test('rule 1.4 (v1–v10): content needs a creator; v11+ do not', () => {
  for (const v of ALL_VERSIONS) {
    const expected = rulesOf(v).auth.useCreateSender ? 'allow' : '1.4';
    assert.equal(outcome(authorizeEvent(create(v, { content: {} }), emptyCtx(v))), expected, `v${v}`);
  }
});

test('rule 1.4 (v12): additional_creators must be an array of valid user IDs', () => {
  const withCreators = (additional_creators: JsonObject[string]) => create('12', { content: { additional_creators } });
  const ctx = emptyCtx('12');
  assert.equal(outcome(authorizeEvent(withCreators(['@bob:b.example', '@carol:c.example:8448']), ctx)), 'allow');
  assert.equal(outcome(authorizeEvent(withCreators([]), ctx)), 'allow');
  // Historical localparts are still valid user IDs.
  assert.equal(outcome(authorizeEvent(withCreators(['@Bob Smith:b.example']), ctx)), 'allow');
  for (const bad of ['@bob', 'bob:b.example', '@bob:', '@bob:b_example', '@bob:b.example:port', '@a\u0000b:b.example', `@${'x'.repeat(260)}:b.example`]) {
    assert.equal(outcome(authorizeEvent(withCreators([bad]), ctx)), '1.4', bad);
  }
  assert.equal(outcome(authorizeEvent(withCreators('@bob:b.example'), ctx)), '1.4');
  assert.equal(outcome(authorizeEvent(withCreators([1]), ctx)), '1.4');
  assert.equal(outcome(authorizeEvent(withCreators(null), ctx)), '1.4');
  // Before v12 the field means nothing to the rules.
  assert.equal(outcome(authorizeEvent(create('11', { content: { additional_creators: 5 } }), emptyCtx('11'))), 'allow');
});
