// Lenient reads: whatever the content of the event or of the state events, the rules
// answer with an AuthResult and never throw (content/rooms: servers must not fail on
// fields the rules do not read, and must reject, not crash, on those they do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { EventView } from '../event-view.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import { authorizeEvent } from './authorize.ts';
import { authTypesForEvent } from './auth-types.ts';
import { ALICE, ALL_VERSIONS, BOB, CAROL, makeEvent, makeRoom } from './testing.ts';

const KEYS = [
  'membership', 'users', 'users_default', 'events', 'events_default', 'state_default', 'ban', 'kick',
  'invite', 'redact', 'notifications', 'join_rule', 'allow', 'third_party_invite', 'signed', 'mxid',
  'token', 'signatures', 'public_key', 'public_keys', 'join_authorised_via_users_server', 'creator',
  'room_version', 'additional_creators', 'm.federate', '__proto__', 'constructor', ALICE, BOB, CAROL,
];

const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue; object: JsonObject }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<JsonValue>(null, true, false, 0, -1, 50, 100, 50.5, 1e300, '', '50', ' +50 ', 'join', 'invite', 'ban', 'leave', 'knock', 'public', 'restricted', 'knock_restricted', 'tok', ALICE, BOB),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.array(tie('value'), { maxLength: 3 }),
    tie('object'),
  ),
  object: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('value'), { maxKeys: 5 }),
})).value;

const content: fc.Arbitrary<JsonObject> = fc.dictionary(fc.constantFrom(...KEYS), jsonValue, { maxKeys: 6 });

const TYPES = ['m.room.member', 'm.room.power_levels', 'm.room.create', 'm.room.join_rules', 'm.room.third_party_invite', 'm.room.aliases', 'm.room.redaction', 'm.room.message'];

test('random content in the event never makes the rules throw', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...ALL_VERSIONS),
      fc.constantFrom(...TYPES),
      fc.constantFrom(ALICE, BOB, CAROL, 'not-a-user'),
      fc.option(fc.constantFrom('', ALICE, BOB, CAROL, '@x', 'tok'), { nil: undefined }),
      content,
      (version, type, sender, stateKey, eventContent) => {
        const room = makeRoom(version);
        room.setMember(BOB, 'join');
        const event = room.event({ type, sender, stateKey, content: eventContent, prevEvents: [room.create.eventId] });
        const result = authorizeEvent(event, room.ctx());
        assert.equal(typeof result.allowed, 'boolean');
        authTypesForEvent(room.rules, event);
      },
    ),
    { numRuns: 1500 },
  );
});

test('random content in the state events never makes the rules throw', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...ALL_VERSIONS),
      content,
      content,
      content,
      content,
      fc.constantFrom(...TYPES),
      content,
      (version, createContent, powerLevels, joinRules, membership, type, eventContent) => {
        const room = makeRoom(version, { createContent, powerLevels, joinRule: null });
        room.put(room.event({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: joinRules }));
        room.put(room.event({ type: 'm.room.member', sender: BOB, stateKey: BOB, content: membership }));
        room.put(room.event({ type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: eventContent }));
        const stateKey = type === 'm.room.member' ? BOB : type === 'm.room.message' ? undefined : '';
        const event = room.event({ type, sender: BOB, stateKey, content: eventContent });
        const result = authorizeEvent(event, room.ctx());
        assert.equal(typeof result.allowed, 'boolean');
        if (!result.allowed) assert.match(result.rule, /^[0-9]+(\.[0-9]+)*$/);
      },
    ),
    { numRuns: 1500 },
  );
});

test('random auth_events lists never make the rules throw', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ALL_VERSIONS), fc.array(fc.tuple(fc.constantFrom(...TYPES), fc.option(fc.constantFrom('', ALICE, BOB), { nil: undefined }), fc.boolean()), { maxLength: 6 }), (version, specs) => {
      const room = makeRoom(version);
      const events: EventView[] = specs.map(([type, stateKey, foreign]) =>
        makeEvent({ type, sender: ALICE, stateKey, content: {}, roomId: foreign ? '!other:a.example' : room.roomId }),
      );
      const event = room.event({ type: 'm.room.message', sender: ALICE, content: {}, authEvents: events.map((e) => e.eventId) });
      const result = authorizeEvent(event, room.ctx({ authEvents: { events, isRejected: (id) => id.length % 2 === 0 } }));
      assert.equal(typeof result.allowed, 'boolean');
    }),
    { numRuns: 500 },
  );
});
