// The persisted client-state services on every engine, over a real roomserver:
// client-server § "Receipts" (ordering, private and threaded receipts), § "Fully read
// markers", § "Client Config" (stream positions, server-managed types), § "Room Tagging",
// § "Profiles" (member events follow profile changes) and § "Presence".

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isMatrixError } from '../../http/matrix-error.ts';
import { createLogger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { localRoomserver, TestKeyring } from '../../roomserver/testing.ts';
import { describeEngines } from '../../storage/testing.ts';
import { createEphemeralServices, type EphemeralServices } from './index.ts';
import type { Scheduler } from './scheduler.ts';

const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';
const CAROL = '@carol:local.test';

function rejectsWith(status: number, errcode: string): (error: unknown) => boolean {
  return (error) => isMatrixError(error) && error.status === status && error.errcode === errcode;
}

const noTimers: Scheduler = () => () => undefined;

describeEngines('client state services', (getDb) => {
  let now = 1_700_000_000_000;
  let roomserver: Roomserver;
  let services: EphemeralServices;
  let roomId: string;
  const messages: string[] = [];

  before(async () => {
    const db = getDb();
    for (const userId of [ALICE, BOB, CAROL]) {
      await db.kysely.insertInto('users').values({ user_id: userId, password_hash: null, created_ts: now }).execute();
    }
    roomserver = localRoomserver(db, new TestKeyring(), () => now);
    services = createEphemeralServices({
      db,
      roomserver,
      serverName: 'local.test',
      logger: createLogger('fatal'),
      clock: () => now,
      schedule: noTimers,
    });
    await services.ready();
    ({ roomId } = await roomserver.createRoom({
      creator: ALICE,
      roomVersion: '12',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    }));
    await roomserver.setMembership({ roomId, sender: BOB, target: BOB, membership: 'join' });
    for (let i = 0; i < 3; i++) {
      messages.push((await roomserver.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: `m${i}` } })).eventId);
    }
  });

  test('Receipts: a receipt moves forward, never back, and advances the stream', async () => {
    const { receipts } = services;
    const start = receipts.currentPosition();
    await receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read', eventId: messages[1]! });
    const afterFirst = receipts.currentPosition();
    assert.ok(afterFirst > start);
    await receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read', eventId: messages[0]! });
    assert.equal(receipts.currentPosition(), afterFirst, 'an older event is ignored ("up to" markers)');
    const [record] = await receipts.receiptsSince([roomId], start, receipts.currentPosition(), ALICE);
    assert.equal(record?.eventId, messages[1]);
    assert.equal(record?.ts, now);
    assert.equal(record?.threadId, undefined, 'unthreaded receipts carry no thread_id');
  });

  test('Private read receipts: only their owner sees m.read.private', async () => {
    const { receipts } = services;
    const start = receipts.currentPosition();
    await receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read.private', eventId: messages[2]! });
    const end = receipts.currentPosition();
    assert.deepEqual(await receipts.receiptsSince([roomId], start, end, ALICE), []);
    const own = await receipts.receiptsSince([roomId], start, end, BOB);
    assert.deepEqual(own.map((r) => [r.receiptType, r.eventId]), [['m.read.private', messages[2]]]);
    assert.deepEqual((await receipts.readReceiptEvents(roomId, BOB)).sort(), [messages[1], messages[2]].sort());
  });

  test('Threaded read receipts: thread_id is kept apart from the unthreaded receipt and checked', async () => {
    const { receipts } = services;
    const root = messages[0]!;
    const inThread = (
      await roomserver.sendEvent({
        roomId,
        sender: ALICE,
        type: 'm.room.message',
        content: { body: 'reply', 'm.relates_to': { rel_type: 'm.thread', event_id: root } },
      })
    ).eventId;
    const start = receipts.currentPosition();
    await receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read', eventId: inThread, threadId: root });
    await receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read', eventId: messages[2]!, threadId: 'main' });
    const records = await receipts.receiptsSince([roomId], start, receipts.currentPosition(), ALICE);
    assert.deepEqual(records.map((r) => [r.eventId, r.threadId]), [[inThread, root], [messages[2], 'main']]);
    await assert.rejects(
      receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read', eventId: inThread, threadId: 'main' }),
      rejectsWith(400, 'M_INVALID_PARAM'),
      'an event in a thread is not in the main timeline',
    );
    // The unthreaded receipt from the first test is untouched.
    const all = await receipts.receiptsSince([roomId], 0, receipts.currentPosition(), BOB);
    assert.ok(all.some((r) => r.threadId === undefined && r.receiptType === 'm.read' && r.eventId === messages[1]));
  });

  test('Receipts: only joined members, only events of the room, only known receipt types', async () => {
    const { receipts } = services;
    await assert.rejects(
      receipts.sendReceipt({ roomId, userId: CAROL, receiptType: 'm.read', eventId: messages[0]! }),
      rejectsWith(403, 'M_FORBIDDEN'),
    );
    await assert.rejects(
      receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.read', eventId: '$missing' }),
      rejectsWith(404, 'M_NOT_FOUND'),
    );
    await assert.rejects(
      receipts.sendReceipt({ roomId, userId: BOB, receiptType: 'm.unknown', eventId: messages[0]! }),
      rejectsWith(400, 'M_INVALID_PARAM'),
    );
  });

  test('Client Config: account data advances the stream; since-queries return only later writes', async () => {
    const { accountData } = services;
    const start = accountData.currentPosition();
    await accountData.putByClient(ALICE, ALICE, undefined, 'org.example.a', { v: 1 });
    const middle = accountData.currentPosition();
    await accountData.putByClient(ALICE, ALICE, roomId, 'org.example.b', { v: 2 });
    await accountData.putByClient(ALICE, ALICE, undefined, 'org.example.a', { v: 3 });
    const end = accountData.currentPosition();
    assert.ok(start < middle && middle < end);

    const all = await accountData.accountDataSince(ALICE, start, end);
    assert.deepEqual(all.global, [{ type: 'org.example.a', content: { v: 3 } }], 'one entry per type, the latest');
    assert.deepEqual(all.rooms.get(roomId), [{ type: 'org.example.b', content: { v: 2 } }]);
    const later = await accountData.accountDataSince(ALICE, end, end);
    assert.deepEqual(later.global, []);
    assert.equal((await accountData.accountDataSince(BOB, 0, end)).global.length, 0, 'account data is per user');
    assert.deepEqual(await accountData.getByClient(ALICE, ALICE, undefined, 'org.example.a'), { v: 3 });
    assert.equal(await accountData.getByClient(ALICE, ALICE, roomId, 'org.example.a'), undefined, 'no fallback to global');
  });

  test('Client Config: m.fully_read and m.push_rules are 405 M_BAD_JSON; other users are 403', async () => {
    const { accountData } = services;
    for (const type of ['m.fully_read', 'm.push_rules']) {
      await assert.rejects(accountData.putByClient(ALICE, ALICE, undefined, type, {}), rejectsWith(405, 'M_BAD_JSON'));
      await assert.rejects(accountData.putByClient(ALICE, ALICE, roomId, type, {}), rejectsWith(405, 'M_BAD_JSON'));
    }
    await assert.rejects(accountData.putByClient(BOB, ALICE, undefined, 'x.y', {}), rejectsWith(403, 'M_FORBIDDEN'));
    await assert.rejects(accountData.getByClient(BOB, ALICE, undefined, 'x.y'), rejectsWith(403, 'M_FORBIDDEN'));
    await assert.rejects(accountData.putByClient(ALICE, ALICE, 'not-a-room', 'x.y', {}), rejectsWith(400, 'M_INVALID_PARAM'));
  });

  test('Fully read markers: /read_markers stores m.fully_read and the receipts in one call', async () => {
    const { readMarkers, accountData } = services;
    await readMarkers.update(BOB, roomId, { fullyRead: messages[2]!, read: messages[2]! });
    assert.deepEqual(await accountData.get(BOB, roomId, 'm.fully_read'), { event_id: messages[2] });
    await assert.rejects(readMarkers.setFullyRead(CAROL, roomId, messages[2]!), rejectsWith(403, 'M_FORBIDDEN'));
  });

  test('Room Tagging: tags are the room account data m.tag; edits keep other tags', async () => {
    const { accountData } = services;
    await accountData.setTag(ALICE, ALICE, roomId, 'm.favourite', { order: 0.25 });
    await accountData.setTag(ALICE, ALICE, roomId, 'u.work', {});
    assert.deepEqual(await accountData.tags(ALICE, ALICE, roomId), { 'm.favourite': { order: 0.25 }, 'u.work': {} });
    await accountData.deleteTag(ALICE, ALICE, roomId, 'm.favourite');
    assert.deepEqual(await accountData.get(ALICE, roomId, 'm.tag'), { tags: { 'u.work': {} } });
    await assert.rejects(accountData.setTag(ALICE, ALICE, roomId, 'x'.repeat(256), {}), rejectsWith(400, 'M_INVALID_PARAM'));
  });

  test('Profiles: the default display name is the localpart; a change re-sends the member event', async () => {
    const { profile } = services;
    assert.deepEqual(await profile.lookup(BOB), { displayname: 'bob' });
    assert.equal(await profile.lookup('@nobody:local.test'), undefined);
    await profile.set(BOB, BOB, 'displayname', 'Bobby');
    await profile.set(BOB, BOB, 'avatar_url', 'mxc://local.test/abc');
    assert.deepEqual(await profile.get(BOB), { displayname: 'Bobby', avatar_url: 'mxc://local.test/abc' });
    const member = await roomserver.stateEvent(roomId, 'm.room.member', BOB);
    assert.deepEqual(member?.json['content'], { membership: 'join', displayname: 'Bobby', avatar_url: 'mxc://local.test/abc' });
    await profile.delete(BOB, BOB, 'avatar_url');
    const after = await roomserver.stateEvent(roomId, 'm.room.member', BOB);
    assert.deepEqual(after?.json['content'], { membership: 'join', displayname: 'Bobby' });
    await assert.rejects(profile.set(ALICE, BOB, 'displayname', 'x'), rejectsWith(403, 'M_FORBIDDEN'));
    await assert.rejects(profile.set(BOB, BOB, 'avatar_url', 'http://x'), rejectsWith(400, 'M_BAD_JSON'));
    await assert.rejects(profile.set(BOB, BOB, 'Bad Key', 'x'), rejectsWith(400, 'M_INVALID_PARAM'));
  });

  test('Presence: set, visible to room-mates only, idle after the timeout', async () => {
    const { presence } = services;
    const start = presence.currentPosition();
    await presence.setByClient(BOB, BOB, 'online', 'here');
    assert.ok(presence.currentPosition() > start);
    now += 1_000;
    const view = await presence.getForViewer(ALICE, BOB);
    assert.equal(view.presence, 'online');
    assert.equal(view.status_msg, 'here');
    assert.equal(view.last_active_ago, 1_000);
    await assert.rejects(presence.getForViewer(CAROL, BOB), rejectsWith(403, 'M_FORBIDDEN'));
    await assert.rejects(presence.setByClient(ALICE, BOB, 'online', undefined), rejectsWith(403, 'M_FORBIDDEN'));

    const events = await presence.presenceSince(new Set([BOB, CAROL]), start, presence.currentPosition());
    assert.deepEqual(events.map((e) => [e['sender'], e['type']]), [[BOB, 'm.presence']]);

    now += 5 * 60_000;
    await presence.syncedPresence(BOB, 'online');
    await presence.sweep();
    assert.equal((await presence.getForViewer(BOB, BOB)).presence, 'unavailable', '§ "Idle timeout"');
    await presence.userActive(BOB);
    assert.equal((await presence.getForViewer(BOB, BOB)).presence, 'online', 'activity brings the user back');
  });
});
