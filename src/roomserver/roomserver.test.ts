// The roomserver pipeline on every engine: local rooms and sends, state snapshots,
// membership flows, concurrency, federation receipt (content/server-server-api.md "Checks
// performed on receipt of a PDU", "Soft failure", "Room State Resolution"), redactions
// (rooms/fragments/v3-handling-redactions.md) and atomic persistence.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { stateKeyOf } from '../rooms/event-view.ts';
import type { JsonObject } from '../rooms/json.ts';
import { failInsertsWhere } from '../storage/fault-injection.ts';
import { RoomStore } from '../storage/index.ts';
import { describeEngines } from '../storage/testing.ts';
import { EventNotAllowedError, RoomNotFoundError } from './errors.ts';
import type { NewRoomEvent } from './output.ts';
import type { Roomserver } from './roomserver.ts';
import { localRoomserver, RemoteServer, testKey, TestKeyring } from './testing.ts';

const ALICE = '@alice:local.test';
const CAROL = '@carol:local.test';
const BOB = '@bob:remote.test';

/** v12 creators have infinite power and must not be listed in `users` (rooms/v12.md). */
function publicRoomState(creator: string, version: string): Array<{ type: string; stateKey: string; content: JsonObject }> {
  const users = version === '12' ? {} : { [creator]: 100 };
  return [
    { type: 'm.room.power_levels', stateKey: '', content: { users, users_default: 0 } },
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
  ];
}

async function prevEventsOf(rs: Roomserver, eventId: string): Promise<string[]> {
  const event = await rs.event(eventId, 'stored');
  const prev = event?.json['prev_events'];
  assert.ok(Array.isArray(prev));
  return prev.map((p) => (Array.isArray(p) ? String(p[0]) : String(p)));
}

describeEngines('roomserver', (getDb) => {
  const keyring = new TestKeyring();
  const remote = new RemoteServer('remote.test', testKey(2));
  keyring.add(remote.serverName, remote.key);
  let rs: Roomserver;
  const outputs: NewRoomEvent[] = [];

  before(() => {
    rs = localRoomserver(getDb(), keyring);
    rs.onNewEvent((event) => outputs.push(event));
  });

  for (const version of ['1', '10', '11', '12']) {
    test(`creates a v${version} room and sends messages (client-server API "Creation")`, async () => {
      const { roomId, eventIds } = await rs.createRoom({
        creator: ALICE,
        roomVersion: version,
        initialState: [...publicRoomState(ALICE, version), { type: 'm.room.name', stateKey: '', content: { name: `v${version}` } }],
      });
      assert.equal(eventIds.length, 6);
      if (version === '12') assert.equal(roomId, `!${eventIds[0]?.slice(1)}`);
      else assert.match(roomId, /^!.+:local\.test$/);
      assert.equal(await rs.roomVersion(roomId), version);
      assert.equal(await rs.membership(roomId, ALICE), 'join');
      assert.deepEqual(await rs.roomsForUser(ALICE, 'join').then((r) => r.includes(roomId)), true);

      const before = await rs.latestStreamPosition();
      const first = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'one' } });
      const second = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'two' } });
      assert.ok(first.streamOrdering > before && second.streamOrdering > first.streamOrdering);
      assert.deepEqual(await prevEventsOf(rs, second.eventId), [first.eventId]);
      assert.deepEqual(await rs.forwardExtremities(roomId), [second.eventId]);
      assert.equal(await rs.latestStreamPosition(), second.streamOrdering);

      const timeline = await rs.eventsInRange({ roomId, fromStream: 0, toStream: second.streamOrdering, limit: 100, direction: 'forward' });
      assert.deepEqual(timeline.map((e) => e.type), [
        'm.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules',
        'm.room.history_visibility', 'm.room.name', 'm.room.message', 'm.room.message',
      ]);
      const latest = await rs.eventsInRange({ roomId, fromStream: 0, toStream: second.streamOrdering, limit: 2, direction: 'backward' });
      assert.deepEqual(latest.map((e) => e.eventId), [second.eventId, first.eventId]);
      const name = await rs.stateEvent(roomId, 'm.room.name', '');
      assert.deepEqual(name?.json['content'], { name: `v${version}` });
      const state = await rs.currentState(roomId);
      assert.equal(state.length, 6);
      const announced = outputs.filter((o) => o.roomId === roomId);
      assert.equal(announced.length, 8);
      assert.deepEqual(announced[1]?.membershipChange, { target: ALICE, membership: 'join', previous: undefined });
    });
  }

  test('state snapshots reconstruct the state at every event, and chains re-base (DESIGN.md "Data model")', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '11', initialState: publicRoomState(ALICE, '11') });
    for (let i = 0; i < 45; i++) {
      if (i % 3 === 2) await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: `m${i}` } });
      else await rs.sendEvent({ roomId, sender: ALICE, type: 'org.example.counter', stateKey: `k${i % 7}`, content: { i } });
    }
    const upTo = await rs.latestStreamPosition();
    const events = await rs.eventsInRange({ roomId, fromStream: 0, toStream: upTo, limit: 1000, direction: 'forward' });
    const store = new RoomStore(getDb());
    const linear = new Map<string, string>();
    let maxChain = 0;
    for (const event of events) {
      assert.deepEqual(await rs.stateAt(event.eventId, 'before'), linear, `state before ${event.type} ${event.eventId}`);
      if (event.stateKey !== undefined) linear.set(stateKeyOf(event.type, event.stateKey), event.eventId);
      assert.deepEqual(await rs.stateAt(event.eventId, 'after'), linear);
      const stored = await store.events.byId(event.eventId);
      const info = await store.state.snapshotInfo(stored?.stateBeforeSnapshotId ?? -1);
      assert.ok(info !== undefined);
      maxChain = Math.max(maxChain, info.chainLength);
    }
    assert.equal(maxChain, 32, 'chains grow to the limit and no further');
    const current = new Map((await rs.currentState(roomId)).map((e) => [stateKeyOf(e.type, e.stateKey), e.eventId]));
    assert.deepEqual(current, linear);
  });

  test('membership: join, leave, kick, ban and refusals map to EventNotAllowedError (M_FORBIDDEN)', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoomState(ALICE, '12') });
    await assert.rejects(
      rs.sendEvent({ roomId, sender: CAROL, type: 'm.room.message', content: { body: 'not in room' } }),
      (err) => err instanceof EventNotAllowedError && err.check === 4,
    );
    await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'join' });
    assert.equal(await rs.membership(roomId, CAROL), 'join');
    await rs.sendEvent({ roomId, sender: CAROL, type: 'm.room.message', content: { body: 'hi' } });
    await assert.rejects(
      rs.sendEvent({ roomId, sender: CAROL, type: 'm.room.power_levels', stateKey: '', content: { users: { [CAROL]: 100 } } }),
      EventNotAllowedError,
    );
    await assert.rejects(rs.setMembership({ roomId, sender: CAROL, target: ALICE, membership: 'ban' }), EventNotAllowedError);
    await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'leave' });
    assert.equal(await rs.membership(roomId, CAROL), 'leave');
    await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'join' });
    await rs.setMembership({ roomId, sender: ALICE, target: CAROL, membership: 'leave', reason: 'kick' });
    assert.equal(await rs.membership(roomId, CAROL), 'leave');
    await rs.setMembership({ roomId, sender: ALICE, target: CAROL, membership: 'ban' });
    assert.deepEqual(await rs.members(roomId, 'ban'), [CAROL]);
    await assert.rejects(rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'join' }), (err) => {
      assert.ok(err instanceof EventNotAllowedError);
      assert.match(err.reason, /ban/);
      return true;
    });
    assert.deepEqual(await rs.roomsForUser(CAROL, 'ban').then((r) => r.includes(roomId)), true);
    await assert.rejects(
      rs.sendEvent({ roomId: '!nope:local.test', sender: ALICE, type: 'm.room.message', content: {} }),
      RoomNotFoundError,
    );
  });

  test('transaction IDs: a retried send returns the first event', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12' });
    const a = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'x' }, txnId: 't1', deviceId: 'D' });
    const b = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'x' }, txnId: 't1', deviceId: 'D' });
    const c = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'x' }, txnId: 't1', deviceId: 'E' });
    assert.deepEqual(b, a);
    assert.notEqual(c.eventId, a.eventId);
  });

  test('50 concurrent sends to one room form a linear chain with unique increasing stream orderings', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12' });
    const sent = await Promise.all(
      Array.from({ length: 50 }, (_, i) => rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: `${i}` } })),
    );
    const orderings = sent.map((s) => s.streamOrdering);
    assert.equal(new Set(orderings).size, 50);
    const sorted = [...sent].sort((x, y) => x.streamOrdering - y.streamOrdering);
    for (let i = 1; i < sorted.length; i++) {
      assert.deepEqual(await prevEventsOf(rs, sorted[i]?.eventId ?? ''), [sorted[i - 1]?.eventId]);
    }
    assert.deepEqual(await rs.forwardExtremities(roomId), [sorted.at(-1)?.eventId]);
    const all = await rs.eventsInRange({ roomId, fromStream: 0, toStream: await rs.latestStreamPosition(), limit: 100, direction: 'forward' });
    assert.equal(all.filter((e) => e.type === 'm.room.message').length, 50);
  });

  test('sends waiting together share one write: a refused one fails alone, a repeated transaction ID sends once', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12' });
    const outcomes = await Promise.allSettled([
      rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'a' } }),
      // CAROL is not in the room (auth rules: the sender must be joined).
      rs.sendEvent({ roomId, sender: CAROL, type: 'm.room.message', content: { body: 'refused' } }),
      rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'b' }, txnId: 'same', deviceId: 'D' }),
      rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'b' }, txnId: 'same', deviceId: 'D' }),
      rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'c' } }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    assert.ok(outcomes[1]?.status === 'rejected' && outcomes[1].reason instanceof EventNotAllowedError);
    const sent = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    assert.equal(sent[1]?.eventId, sent[2]?.eventId, 'the repeated transaction ID got the first send back');
    const unique = [...new Map(sent.map((e) => [e.eventId, e])).values()].sort((x, y) => x.streamOrdering - y.streamOrdering);
    assert.equal(unique.length, 3);
    for (let i = 1; i < unique.length; i++) assert.deepEqual(await prevEventsOf(rs, unique[i]?.eventId ?? ''), [unique[i - 1]?.eventId]);
    const all = await rs.eventsInRange({ roomId, fromStream: 0, toStream: await rs.latestStreamPosition(), limit: 100, direction: 'forward' });
    // Concurrent calls have no order among themselves; each is stored once.
    assert.deepEqual(
      all.filter((e) => e.type === 'm.room.message').map((e) => (e.json['content'] as { body?: string }).body).sort(),
      ['a', 'b', 'c'],
    );
  });

  test('receivePdu: accepted, rejected, soft-failed, dropped, hash mismatch (checks on receipt 1–6)', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoomState(ALICE, '12') });
    const join = await remote.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } });
    const joined = await rs.receivePdu(JSON.stringify(join), remote.serverName, { roomVersion: '12' });
    assert.equal(joined.outcome, 'accepted', joined.reason);
    assert.equal(await rs.membership(roomId, BOB), 'join');
    assert.equal((await rs.receivePdu(join, remote.serverName, { roomVersion: '12' })).outcome, 'duplicate');

    const hello = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'hello' } });
    assert.equal((await rs.receivePdu(hello, remote.serverName, { roomVersion: '12' })).outcome, 'accepted');
    const helloId = (await rs.forwardExtremities(roomId))[0] ?? '';

    // Rejected: a sender that is not in the room (check 4, the auth events).
    const intruder = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: '@eve:remote.test', content: { body: 'x' } });
    const rejected = await rs.receivePdu(intruder, remote.serverName, { roomVersion: '12' });
    assert.equal(rejected.outcome, 'rejected');
    assert.equal(rejected.check, 4);
    assert.deepEqual(await rs.forwardExtremities(roomId), [helloId]);
    assert.ok((await rs.event(rejected.eventId ?? ''))?.rejectedReason);

    // Dropped: a signature by a key nobody published (check 2), and a broken PDU (check 1).
    const forged = await new RemoteServer('remote.test', testKey(9)).buildEvent(rs, roomId, {
      type: 'm.room.message', sender: BOB, content: { body: 'forged' },
    });
    assert.deepEqual((await rs.receivePdu(forged, remote.serverName, { roomVersion: '12' })).check, 2);
    assert.equal((await rs.receivePdu('{"not": "a pdu"}', remote.serverName, { roomVersion: '12' })).outcome, 'dropped');

    // Hash mismatch (check 3): content changed after signing; stored as the redacted copy.
    const tampered = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'original' } });
    tampered['content'] = { body: 'tampered' };
    const redactedResult = await rs.receivePdu(tampered, remote.serverName, { roomVersion: '12' });
    assert.equal(redactedResult.outcome, 'accepted');
    assert.equal(redactedResult.redactedForHash, true);
    assert.deepEqual((await rs.event(redactedResult.eventId ?? '', 'stored'))?.json['content'], {});

    // Soft-fail (check 6): Bob is banned; his next event points before the ban.
    const beforeBan = (await rs.forwardExtremities(roomId))[0] ?? '';
    await rs.setMembership({ roomId, sender: ALICE, target: BOB, membership: 'ban' });
    const evasion = await remote.buildEvent(rs, roomId, {
      type: 'm.room.message', sender: BOB, content: { body: 'evading' }, prevEvents: [beforeBan],
    });
    const seen: string[] = [];
    const off = rs.onNewEvent((e) => seen.push(e.eventId));
    const soft = await rs.receivePdu(evasion, remote.serverName, { roomVersion: '12' });
    off();
    assert.equal(soft.outcome, 'soft-failed');
    assert.equal(soft.check, 6);
    assert.deepEqual(seen, [], 'soft-failed events are not announced');
    assert.equal((await rs.forwardExtremities(roomId)).includes(soft.eventId ?? ''), false);
    const timeline = await rs.eventsInRange({ roomId, fromStream: 0, toStream: await rs.latestStreamPosition(), limit: 100, direction: 'forward' });
    assert.equal(timeline.some((e) => e.eventId === soft.eventId), false);
  });

  test('a fork from a remote server is resolved, and a local send merges it (Room State Resolution)', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '10', initialState: publicRoomState(ALICE, '10') });
    const join = await remote.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } });
    assert.equal((await rs.receivePdu(join, remote.serverName, { roomVersion: '10' })).outcome, 'accepted');
    const base = (await rs.forwardExtremities(roomId))[0] ?? '';
    const left = await remote.buildEvent(rs, roomId, {
      type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join', displayname: 'Bob' }, prevEvents: [base],
    });
    const right = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'fork' }, prevEvents: [base] });
    const l = await rs.receivePdu(left, remote.serverName, { roomVersion: '10' });
    const r = await rs.receivePdu(right, remote.serverName, { roomVersion: '10' });
    assert.equal(l.outcome, 'accepted');
    assert.equal(r.outcome, 'accepted');
    assert.deepEqual(new Set(await rs.forwardExtremities(roomId)), new Set([l.eventId, r.eventId]));
    // The current state is the resolution across both extremities: Bob's newer member event.
    const bob = await rs.stateEvent(roomId, 'm.room.member', BOB);
    assert.equal(bob?.eventId, l.eventId);

    const merge = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'merge' } });
    assert.deepEqual(new Set(await prevEventsOf(rs, merge.eventId)), new Set([l.eventId, r.eventId]));
    assert.deepEqual(await rs.forwardExtremities(roomId), [merge.eventId]);
    const before = await rs.stateAt(merge.eventId, 'before');
    assert.equal(before?.get(stateKeyOf('m.room.member', BOB)), l.eventId);
  });

  test('redactions mark the target and clients see it redacted; a remote user cannot redact others (v3 Handling redactions)', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '11', initialState: publicRoomState(ALICE, '11') });
    const message = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'secret', msgtype: 'm.text' } });
    const join = await remote.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } });
    await rs.receivePdu(join, remote.serverName, { roomVersion: '11' });
    const attempt = await remote.buildEvent(rs, roomId, { type: 'm.room.redaction', sender: BOB, content: {}, redacts: message.eventId });
    assert.equal((await rs.receivePdu(attempt, remote.serverName, { roomVersion: '11' })).outcome, 'accepted');
    assert.equal((await rs.event(message.eventId))?.redactedBy, null, 'below the redact level and another server');

    const redaction = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.redaction', content: { reason: 'oops' }, redacts: message.eventId });
    const client = await rs.event(message.eventId);
    assert.equal(client?.redactedBy, redaction.eventId);
    assert.deepEqual(client?.json['content'], {});
    const stored = await rs.event(message.eventId, 'stored');
    assert.deepEqual(stored?.json['content'], { body: 'secret', msgtype: 'm.text' }, 'the original stays stored');
  });

  test('current-state queries see a committed change at once: members, membership, state events, a user\'s rooms', async () => {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '11', initialState: publicRoomState(ALICE, '11') });
    // Asked before the changes, so the answers are cached.
    assert.deepEqual(await rs.members(roomId, 'join'), [ALICE]);
    assert.equal(await rs.membership(roomId, CAROL), undefined);
    assert.equal(await rs.stateEvent(roomId, 'm.room.name', ''), undefined);
    assert.equal((await rs.roomsForUser(CAROL, 'join')).includes(roomId), false);
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'no state change', msgtype: 'm.text' } });
    assert.deepEqual(await rs.members(roomId, 'join'), [ALICE]);

    await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'join' });
    const name = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.name', stateKey: '', content: { name: 'named' } });
    assert.deepEqual(await rs.members(roomId, 'join'), [ALICE, CAROL].sort());
    assert.equal(await rs.membership(roomId, CAROL), 'join');
    assert.equal((await rs.stateEvent(roomId, 'm.room.name', ''))?.eventId, name.eventId);
    assert.equal((await rs.roomsForUser(CAROL, 'join')).includes(roomId), true);
    // A redaction changes how a current state event reads.
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.redaction', content: {}, redacts: name.eventId });
    assert.deepEqual((await rs.stateEvent(roomId, 'm.room.name', ''))?.json['content'], {});
  });

  test('two roomservers sharing one database (two processes) build one chain and see each other\'s redactions', async () => {
    const other = localRoomserver(getDb(), keyring);
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '11', initialState: publicRoomState(ALICE, '11') });
    const send = (server: Roomserver, body: string) =>
      server.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body, msgtype: 'm.text' } });
    const first = await send(rs, 'one');
    const second = await send(other, 'two');
    const third = await send(rs, 'three');
    assert.deepEqual(await prevEventsOf(rs, second.eventId), [first.eventId]);
    assert.deepEqual(await prevEventsOf(rs, third.eventId), [second.eventId]);

    const redaction = await other.sendEvent({ roomId, sender: ALICE, type: 'm.room.redaction', content: {}, redacts: third.eventId });
    const fourth = await send(rs, 'four');
    assert.deepEqual(await prevEventsOf(rs, fourth.eventId), [redaction.eventId]);
    assert.equal((await rs.event(third.eventId))?.redactedBy, redaction.eventId);
    assert.deepEqual(new Set(await other.forwardExtremities(roomId)), new Set([fourth.eventId]));
  });

  test('events that originate here are queued for federation in their own transaction (server-server § "Transactions")', async () => {
    const db = getDb();
    const queuing = localRoomserver(db, keyring, undefined, { queueFederation: true });
    const announced: NewRoomEvent[] = [];
    queuing.onNewEvent((event) => announced.push(event));
    const { roomId } = await queuing.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoomState(ALICE, '12') });
    const join = await remote.buildEvent(queuing, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } });
    assert.equal((await queuing.receivePdu(join, remote.serverName, { roomVersion: '12' })).outcome, 'accepted');
    const rowsFor = (eventId: string) =>
      db.kysely.selectFrom('federation_outbox').select(['destination', 'event_id']).where('event_id', '=', eventId).execute();

    const sent = await queuing.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'hi' } });
    assert.deepEqual(await rowsFor(sent.eventId), [{ destination: 'remote.test', event_id: sent.eventId }]);
    assert.deepEqual(announced.find((e) => e.eventId === sent.eventId)?.queuedFor, ['remote.test']);
    // Received events are not sent back; an invite also goes to the invitee's server.
    assert.deepEqual(await rowsFor(join.event_id as string), []);
    const invite = await queuing.setMembership({ roomId, sender: ALICE, target: '@dave:third.test', membership: 'invite' });
    assert.deepEqual((await rowsFor(invite.eventId)).map((r) => r.destination).sort(), ['remote.test', 'third.test']);

    // The queue row and the event commit together or not at all.
    const restore = await failInsertsWhere(db, 'federation_outbox', 'destination', 'remote.test');
    try {
      await assert.rejects(queuing.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'lost?' } }), /injected failure/);
    } finally {
      await restore();
    }
    const lost = await db.kysely.selectFrom('events').select('event_id').where('room_id', '=', roomId).where('json', 'like', '%lost?%').execute();
    assert.deepEqual(lost, []);
    await db.kysely.deleteFrom('federation_outbox').execute();
  });

  test('a write that fails mid-way leaves nothing half-written', async () => {
    const db = getDb();
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12' });
    const extremities = await rs.forwardExtremities(roomId);
    const position = await rs.latestStreamPosition();
    const restore = await failInsertsWhere(db, 'current_state', 'type', 'm.room.topic');
    try {
      await assert.rejects(
        rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.topic', stateKey: '', content: { topic: 'x' } }),
        /injected failure/,
      );
    } finally {
      await restore();
    }
    const topics = await db.kysely.selectFrom('events').select('event_id').where('room_id', '=', roomId).where('type', '=', 'm.room.topic').execute();
    assert.deepEqual(topics, []);
    assert.deepEqual(await rs.forwardExtremities(roomId), extremities);
    assert.equal(await rs.latestStreamPosition(), position);
    const after = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.topic', stateKey: '', content: { topic: 'y' } });
    assert.deepEqual(await prevEventsOf(rs, after.eventId), extremities);
  });
});
