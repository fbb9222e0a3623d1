// Building local events: content/server-server-api.md "PDUs", "Auth events selection",
// "Adding hashes and signatures to outgoing events"; content/rooms/v12.md (room IDs).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeEventId, roomIdFromCreateEvent } from '../event-id.ts';
import { checkContentHash } from '../hashes.ts';
import { getField, type JsonObject } from '../json.ts';
import { buildCreateEvent, buildEvent, depthAfter, selectAuthEvents } from './build.ts';
import { MAX_DEPTH } from './limits.ts';
import { parsePdu } from './parse.ts';
import { ALL_VERSIONS, rulesOf } from './testing.ts';

const ALICE = '@alice:example.org';

/** What a signer would add; enough for parsePdu, which does not verify signatures. */
function fakeSigned(event: JsonObject): JsonObject {
  return { ...event, signatures: { 'example.org': { 'ed25519:a': 'c2ln' } } };
}

function newRoom(version: string) {
  const rules = rulesOf(version);
  const create = buildCreateEvent({
    rules,
    sender: ALICE,
    content: {},
    originServerTs: 1000,
    roomIdLocalpart: 'opaque',
    eventIdLocalpart: 'create',
  });
  return { rules, create, createId: computeEventId(create.event, rules) };
}

describe('buildCreateEvent', () => {
  it('v1–v11: room_id is !opaque:server from the caller\'s opaque part', () => {
    for (const version of ALL_VERSIONS.filter((v) => v !== '12')) {
      const { create } = newRoom(version);
      assert.equal(create.roomId, '!opaque:example.org');
      assert.equal(getField(create.event, 'room_id'), '!opaque:example.org');
    }
  });

  it('v12: no room_id; the room ID is the create event ID with ! (rooms/v12.md)', () => {
    const { rules, create, createId } = newRoom('12');
    assert.equal(getField(create.event, 'room_id'), undefined);
    assert.equal(create.roomId, `!${createId.slice(1)}`);
    assert.equal(create.roomId, roomIdFromCreateEvent(create.event, rules));
    assert.match(create.roomId, /^![A-Za-z0-9_-]{43}$/);
    // Signing does not change it: the reference hash leaves signatures out.
    assert.equal(computeEventId(fakeSigned(create.event), rules), createId);
  });

  it('content: room_version always, creator only before v11 (auth rule 1.4 of v1–v10)', () => {
    for (const version of ALL_VERSIONS) {
      const { rules, create } = newRoom(version);
      const content = getField(create.event, 'content') as JsonObject;
      assert.equal(content['room_version'], version);
      assert.equal(content['creator'], rules.auth.useCreateSender ? undefined : ALICE);
    }
    assert.throws(() =>
      buildCreateEvent({ rules: rulesOf('12'), sender: ALICE, content: { room_version: '11' }, originServerTs: 1 }),
    );
  });

  it('depth 1, no edges, state_key "", a valid content hash, parses once signed', () => {
    for (const version of ALL_VERSIONS) {
      const { rules, create, createId } = newRoom(version);
      assert.equal(getField(create.event, 'depth'), 1);
      assert.deepEqual(getField(create.event, 'prev_events'), []);
      assert.deepEqual(getField(create.event, 'auth_events'), []);
      assert.equal(getField(create.event, 'state_key'), '');
      assert.equal(checkContentHash(create.event), true);
      const parsed = parsePdu({ raw: fakeSigned(create.event), roomVersion: version });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.equal(parsed.pdu.eventId, createId);
      if (rules.format.requireEventIdField) assert.equal(createId, '$create:example.org');
    }
  });

  it('v1–v2 need the caller\'s event ID part; v1–v11 the room ID part', () => {
    assert.throws(() => buildCreateEvent({ rules: rulesOf('1'), sender: ALICE, content: {}, originServerTs: 1, roomIdLocalpart: 'r' }));
    assert.throws(() => buildCreateEvent({ rules: rulesOf('11'), sender: ALICE, content: {}, originServerTs: 1 }));
  });
});

describe('buildEvent', () => {
  it('depth is the deepest prev event plus one, capped at the limit (pdu_v1.yaml "depth")', () => {
    assert.equal(depthAfter([]), 1);
    assert.equal(depthAfter([{ depth: 3 }, { depth: 9 }, { depth: 4 }]), 10);
    assert.equal(depthAfter([{ depth: MAX_DEPTH - 1 }]), MAX_DEPTH);
    assert.equal(depthAfter([{ depth: MAX_DEPTH }]), MAX_DEPTH);
  });

  for (const version of ALL_VERSIONS) {
    it(`v${version}: format, hashes, stable event ID, parses once signed`, () => {
      const { rules, create, createId } = newRoom(version);
      const input = {
        rules,
        roomId: create.roomId,
        type: 'm.room.message',
        sender: ALICE,
        content: { msgtype: 'm.text', body: 'hi' },
        originServerTs: 2000,
        prevEvents: [{ eventId: createId, depth: 1, hashes: { sha256: 'abc' } }],
        authEvents: rules.format.createInAuthEvents ? [createId] : [],
        eventIdLocalpart: 'msg',
      };
      const event = buildEvent(input);
      assert.equal(getField(event, 'depth'), 2);
      assert.equal(getField(event, 'room_id'), create.roomId);
      assert.equal(checkContentHash(event), true);
      assert.equal(checkContentHash({ ...event, content: { body: 'changed' } }), false);
      if (rules.format.eventIdFormat === 'v1') {
        assert.deepEqual(getField(event, 'prev_events'), [[createId, { sha256: 'abc' }]]);
        assert.deepEqual(getField(event, 'auth_events'), [[createId, {}]]);
        assert.equal(getField(event, 'event_id'), '$msg:example.org');
      } else {
        assert.deepEqual(getField(event, 'prev_events'), [createId]);
        assert.equal(getField(event, 'event_id'), undefined);
      }
      const id = computeEventId(event, rules);
      assert.equal(computeEventId(buildEvent(input), rules), id, 'same input, same event ID');
      const changedId = computeEventId(buildEvent({ ...input, originServerTs: 2001 }), rules);
      // v3+ IDs are reference hashes of the event; v1–v2 IDs are the caller's choice.
      if (rules.format.requireEventIdField) assert.equal(changedId, id);
      else assert.notEqual(changedId, id);
      const parsed = parsePdu({ raw: fakeSigned(event), roomVersion: version });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
      assert.equal(parsed.pdu.eventId, id);
      assert.equal(parsed.pdu.view.depth, 2);
    });
  }

  it('redacts: top-level in v1–v10, in content from v11', () => {
    for (const version of ['3', '10', '11', '12']) {
      const { rules, create, createId } = newRoom(version);
      const event = buildEvent({
        rules,
        roomId: create.roomId,
        type: 'm.room.redaction',
        sender: ALICE,
        content: { reason: 'spam' },
        originServerTs: 1,
        prevEvents: [{ eventId: createId, depth: 1 }],
        authEvents: [],
        redacts: createId,
      });
      const content = getField(event, 'content') as JsonObject;
      if (version === '11' || version === '12') {
        assert.equal(content['redacts'], createId);
        assert.equal(getField(event, 'redacts'), undefined);
      } else {
        assert.equal(content['redacts'], undefined);
        assert.equal(getField(event, 'redacts'), createId);
      }
      assert.equal(content['reason'], 'spam');
    }
  });

  it('state events carry state_key; unsigned is kept out of the content hash', () => {
    const { rules, create, createId } = newRoom('12');
    const base = {
      rules,
      roomId: create.roomId,
      type: 'm.room.topic',
      stateKey: '',
      sender: ALICE,
      content: { topic: 't' },
      originServerTs: 1,
      prevEvents: [{ eventId: createId, depth: 1 }],
      authEvents: [],
    };
    const plain = buildEvent(base);
    const withUnsigned = buildEvent({ ...base, unsigned: { age_ts: 5 } });
    assert.equal(getField(plain, 'state_key'), '');
    assert.deepEqual(getField(withUnsigned, 'hashes'), getField(plain, 'hashes'));
    assert.equal(computeEventId(withUnsigned, rules), computeEventId(plain, rules));
  });
});

describe('selectAuthEvents ("Auth events selection")', () => {
  const state = new Map<string, string>([
    ['m.room.create\u0000', '$create'],
    ['m.room.power_levels\u0000', '$pl'],
    ['m.room.join_rules\u0000', '$jr'],
    [`m.room.member\u0000${ALICE}`, '$alice'],
    ['m.room.member\u0000@bob:example.org', '$bob'],
    ['m.room.third_party_invite\u0000tok', '$tpi'],
    ['m.room.topic\u0000', '$topic'],
  ]);
  const lookup = (type: string, stateKey: string) => state.get(`${type}\u0000${stateKey}`);

  it('v1–v11 select the create event, v12 does not', () => {
    const message = { type: 'm.room.message', stateKey: undefined, sender: ALICE, content: {} };
    assert.deepEqual(selectAuthEvents(rulesOf('11'), message, lookup), ['$create', '$pl', '$alice']);
    assert.deepEqual(selectAuthEvents(rulesOf('1'), message, lookup), ['$create', '$pl', '$alice']);
    assert.deepEqual(selectAuthEvents(rulesOf('12'), message, lookup), ['$pl', '$alice']);
  });

  it('memberships add the target, join rules, third-party invite; no duplicates', () => {
    const join = { type: 'm.room.member', stateKey: ALICE, sender: ALICE, content: { membership: 'join' } };
    assert.deepEqual(selectAuthEvents(rulesOf('12'), join, lookup), ['$pl', '$alice', '$jr']);
    const invite = {
      type: 'm.room.member',
      stateKey: '@bob:example.org',
      sender: ALICE,
      content: { membership: 'invite', third_party_invite: { signed: { token: 'tok' } } },
    };
    assert.deepEqual(selectAuthEvents(rulesOf('10'), invite, lookup), ['$create', '$pl', '$alice', '$bob', '$jr', '$tpi']);
    const leave = { type: 'm.room.member', stateKey: '@bob:example.org', sender: ALICE, content: { membership: 'leave' } };
    assert.deepEqual(selectAuthEvents(rulesOf('12'), leave, lookup), ['$pl', '$alice', '$bob']);
  });

  it('v8+: a restricted join selects the authorising user\'s membership', () => {
    const join = {
      type: 'm.room.member',
      stateKey: '@carol:example.org',
      sender: '@carol:example.org',
      content: { membership: 'join', join_authorised_via_users_server: '@bob:example.org' },
    };
    assert.ok(selectAuthEvents(rulesOf('8'), join, lookup).includes('$bob'));
    assert.ok(!selectAuthEvents(rulesOf('7'), join, lookup).includes('$bob'));
  });

  it('pairs missing from the state are left out; the create event selects nothing', () => {
    const sparse = (type: string, stateKey: string) => (type === 'm.room.create' ? '$create' : undefined);
    const message = { type: 'm.room.message', stateKey: undefined, sender: ALICE, content: {} };
    assert.deepEqual(selectAuthEvents(rulesOf('9'), message, sparse), ['$create']);
    const create = { type: 'm.room.create', stateKey: '', sender: ALICE, content: {} };
    assert.deepEqual(selectAuthEvents(rulesOf('9'), create, lookup), []);
  });
});
