// The non-member rules of every version: room ID (v12 rule 2), auth_events (2.x / 3.x),
// m.federate, m.room.aliases (v1–v5), sender membership, m.room.third_party_invite,
// required power level, user-ID state keys, m.room.redaction (v1–v2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventView } from '../event-view.ts';
import { authTypesForEvent } from './auth-types.ts';
import { stateFromAuthEvents } from './auth-events.ts';
import { authorizeEvent, roomIdOfCreateEvent } from './authorize.ts';
import { authEventsRule, topRule } from './rule-numbers.ts';
import { ALICE, ALL_VERSIONS, BOB, CAROL, DAVE, makeEvent, makeRoom, outcome, versionsWhere } from './testing.ts';
import type { Room } from './testing.ts';

const message = (room: Room, sender: string) =>
  room.event({ type: 'm.room.message', sender, content: { body: 'hi', msgtype: 'm.text' } });

test('v12 rule 2: the room ID must be the create event ID with the ! sigil', () => {
  const room = makeRoom('12');
  assert.equal(room.roomId, roomIdOfCreateEvent(room.create.eventId));
  assert.equal(outcome(room.authorize(message(room, ALICE))), 'allow');
  const elsewhere = makeEvent({ type: 'm.room.message', sender: ALICE, content: {}, roomId: '!other' });
  assert.equal(outcome(room.authorize(elsewhere)), '2');
  const noRoom = makeEvent({ type: 'm.room.message', sender: ALICE, content: {}, roomId: undefined });
  assert.equal(outcome(room.authorize(noRoom)), '2');
  // No (accepted) create event in the state: nothing can be authorised.
  assert.equal(outcome(room.authorize(message(room, ALICE), { state: () => undefined })), '2');
});

test('v1–v11: without a create event in the state, nothing is authorised', () => {
  for (const v of versionsWhere((r) => r.format.createHasRoomId)) {
    const room = makeRoom(v);
    assert.equal(outcome(room.authorize(message(room, ALICE), { state: () => undefined })), '2.4', `v${v}`);
  }
});

/** The event's auth events as the selection algorithm picks them from the room state. */
function selectedAuthEvents(room: Room, event: EventView): EventView[] {
  return authTypesForEvent(room.rules, event).flatMap(([type, key]) => room.lookup(type, key) ?? []);
}

function withAuthEvents(room: Room, spec: Parameters<Room['event']>[0], authEvents: EventView[]) {
  return room.event({ ...spec, authEvents: authEvents.map((e) => e.eventId) });
}

test('rule 2 / 3 (v12): the auth_events list, when the caller supplies it', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    room.setMember(BOB, 'join');
    const spec = { type: 'm.room.message', sender: BOB, content: {} };
    const good = selectedAuthEvents(room, room.event(spec));
    const check = (authEvents: EventView[], rejected: string[] = []) =>
      outcome(
        room.authorize(withAuthEvents(room, spec, authEvents), {
          authEvents: { events: authEvents, isRejected: (id) => rejected.includes(id) },
        }),
      );
    assert.equal(check(good), 'allow', `v${v} good`);
    assert.equal(room.rules.format.createInAuthEvents, good.some((e) => e.type === 'm.room.create'), `v${v}`);

    // .1 duplicates
    const secondPl = room.event({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: {} });
    assert.equal(check([...good, secondPl]), authEventsRule(room.rules, 'duplicate'), `v${v} duplicate`);
    // .2 not selected: join rules are not selected for a message; v12 must not list the create event.
    assert.equal(check([...good, room.lookup('m.room.join_rules', '')!]), authEventsRule(room.rules, 'selection'), `v${v}`);
    if (!room.rules.format.createInAuthEvents) {
      assert.equal(check([...good, room.create]), authEventsRule(room.rules, 'selection'), `v${v} create`);
    }
    // .3 a rejected entry
    assert.equal(check(good, [good[0]!.eventId]), authEventsRule(room.rules, 'rejected'), `v${v} rejected`);
    // .4 (v1–v11) no create event
    if (room.rules.format.createInAuthEvents) {
      assert.equal(check(good.filter((e) => e.type !== 'm.room.create')), '2.4', `v${v} no create`);
    }
    // .5 (v12: .4) an entry from another room
    const foreignPl = { ...room.lookup('m.room.power_levels', '')!, eventId: '$foreign:a.example', roomId: '!elsewhere:a.example' };
    const foreign = good.map((e) => (e.type === 'm.room.power_levels' ? foreignPl : e));
    assert.equal(check(foreign), authEventsRule(room.rules, 'roomId'), `v${v} foreign`);
    // An auth event the caller could not provide.
    const missing = outcome(
      room.authorize(withAuthEvents(room, spec, good), { authEvents: { events: good.slice(1), isRejected: () => false } }),
    );
    assert.equal(missing, topRule(room.rules, 'authEvents'), `v${v} missing`);
  }
});

test('stateFromAuthEvents: a state lookup over auth events, skipping rejected ones', () => {
  const room = makeRoom('11');
  const events = [room.create, room.lookup('m.room.power_levels', '')!];
  const state = stateFromAuthEvents(events, (id) => id === events[1]!.eventId);
  assert.equal(state('m.room.create', ''), room.create);
  assert.equal(state('m.room.power_levels', ''), undefined);
});

test('rule 3 (v12: 4): m.federate false keeps other servers out', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v, { createContent: { 'm.federate': false } });
    room.setMember(BOB, 'join');
    room.setMember(DAVE, 'join');
    const rule = topRule(room.rules, 'federate');
    assert.equal(outcome(room.authorize(message(room, BOB))), rule, `v${v}`);
    assert.equal(outcome(room.authorize(message(room, DAVE))), 'allow', `v${v}`);
    const join = room.event({ type: 'm.room.member', sender: CAROL, stateKey: CAROL, content: { membership: 'join' } });
    assert.equal(outcome(room.authorize(join)), rule, `v${v}`);
    // Only the literal `false` restricts.
    const loose = makeRoom(v, { createContent: { 'm.federate': 'false' } });
    loose.setMember(BOB, 'join');
    assert.equal(outcome(loose.authorize(message(loose, BOB))), 'allow', `v${v}`);
  }
});

test('rule 4 (v1–v5): m.room.aliases is authorised by the sender domain alone', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    // Bob is not even in the room.
    const own = room.event({ type: 'm.room.aliases', sender: BOB, stateKey: 'b.example', content: { aliases: [] } });
    const other = room.event({ type: 'm.room.aliases', sender: BOB, stateKey: 'a.example', content: { aliases: [] } });
    const noKey = room.event({ type: 'm.room.aliases', sender: BOB, content: {} });
    if (room.rules.auth.specialCaseAliases) {
      assert.equal(outcome(room.authorize(own)), 'allow', `v${v}`);
      assert.equal(outcome(room.authorize(other)), '4.2', `v${v}`);
      assert.equal(outcome(room.authorize(noKey)), '4.1', `v${v}`);
    } else {
      // v6+: an ordinary state event, so the sender must be joined.
      assert.equal(outcome(room.authorize(own)), topRule(room.rules, 'senderJoined'), `v${v}`);
    }
  }
});

test('sender must be joined (v1–v5 rule 6, v6–v11 rule 5, v12 rule 6)', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const rule = topRule(room.rules, 'senderJoined');
    assert.equal(outcome(room.authorize(message(room, BOB))), rule, `v${v} never joined`);
    for (const membership of ['invite', 'leave', 'ban', 'knock']) {
      room.setMember(BOB, membership);
      assert.equal(outcome(room.authorize(message(room, BOB))), rule, `v${v} ${membership}`);
    }
    room.setMember(BOB, 'join');
    assert.equal(outcome(room.authorize(message(room, BOB))), 'allow', `v${v} joined`);
  }
});

test('m.room.third_party_invite needs the invite level (v1–v5 7, v6–v11 6, v12 7)', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const users = room.rules.auth.privilegeCreators ? { [BOB]: 10 } : { [ALICE]: 100, [BOB]: 10 };
    room.setPowerLevels({ users, invite: 20, state_default: 0 });
    room.setMember(BOB, 'join');
    const invite = room.event({ type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: {} });
    assert.equal(outcome(room.authorize(invite)), `${topRule(room.rules, 'thirdPartyInvite')}.1`, `v${v}`);
    room.setPowerLevels({ users, invite: 10, events: { 'm.room.third_party_invite': 100 } });
    // Allowed at the invite level, whatever `events` says.
    assert.equal(outcome(room.authorize(invite)), 'allow', `v${v}`);
  }
});

test('required power level for the event type (v1–v5 8, v6–v11 7, v12 8)', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v);
    const users = room.rules.auth.privilegeCreators ? { [BOB]: 10 } : { [ALICE]: 100, [BOB]: 10 };
    room.setMember(BOB, 'join');
    const rule = topRule(room.rules, 'requiredLevel');
    room.setPowerLevels({ users, events_default: 11 });
    assert.equal(outcome(room.authorize(message(room, BOB))), rule, `v${v} events_default`);
    room.setPowerLevels({ users, events_default: 10 });
    assert.equal(outcome(room.authorize(message(room, BOB))), 'allow', `v${v} events_default`);
    room.setPowerLevels({ users, events: { 'm.room.message': 11 } });
    assert.equal(outcome(room.authorize(message(room, BOB))), rule, `v${v} events`);
    const topic = room.event({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 't' } });
    room.setPowerLevels({ users });
    assert.equal(outcome(room.authorize(topic)), rule, `v${v} state_default 50`);
    room.setPowerLevels({ users, state_default: 10 });
    assert.equal(outcome(room.authorize(topic)), 'allow', `v${v} state_default 10`);
    // A key named like an Object.prototype member is just an event type.
    const proto = room.event({ type: '__proto__', sender: BOB, content: {} });
    assert.equal(outcome(room.authorize(proto)), 'allow', `v${v} __proto__`);
  }
});

test('a state_key starting with @ belongs to that user (v1–v5 9, v6–v11 8, v12 9)', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v, { powerLevels: { state_default: 0, users: {} } });
    room.setMember(BOB, 'join');
    const own = room.event({ type: 'org.example.status', sender: BOB, stateKey: BOB, content: {} });
    const others = room.event({ type: 'org.example.status', sender: BOB, stateKey: ALICE, content: {} });
    assert.equal(outcome(room.authorize(own)), 'allow', `v${v}`);
    assert.equal(outcome(room.authorize(others)), topRule(room.rules, 'stateKeyOwner'), `v${v}`);
  }
});

test('rule 11 (v1–v2): m.room.redaction needs the redact level or the same server', () => {
  for (const v of ALL_VERSIONS) {
    const room = makeRoom(v, { powerLevels: { users: { [ALICE]: 100 } } });
    room.setMember(BOB, 'join');
    const redact = (redacts: string) =>
      room.event({ type: 'm.room.redaction', sender: BOB, content: {}, redacts, eventId: '$red:b.example' });
    const foreign = redact('$victim:a.example');
    const own = redact('$mine:b.example');
    if (room.rules.auth.specialCaseRedaction) {
      assert.equal(outcome(room.authorize(foreign)), '11.3', `v${v}`);
      assert.equal(outcome(room.authorize(own)), 'allow', `v${v}`);
      const moderator = room.event({ type: 'm.room.redaction', sender: ALICE, content: {}, redacts: '$victim:b.example' });
      assert.equal(outcome(room.authorize(moderator)), 'allow', `v${v}`);
    } else {
      // v3+: the redact level is not an auth rule; redactions pass like any message.
      assert.equal(outcome(room.authorize(foreign)), 'allow', `v${v}`);
    }
  }
});
