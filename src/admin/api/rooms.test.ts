// The room purge behind the Delete Room API (Synapse docs/admin_api/rooms.md, "purge":
// "remove all traces of the room from your database") against a real roomserver, on every
// engine: every table that names the room is emptied of it in one transaction, other rooms
// keep every row, a legal hold (issue 8 item 4: on the room, or on a sender of its events)
// refuses the purge and keeps everything, and the roomserver's caches forget the room.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Roomserver } from '../../roomserver/roomserver.ts';
import { localRoomserver, TestKeyring } from '../../roomserver/testing.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { RoomPurgeRepository, RoomUnderLegalHoldError, type PurgedTable } from '../../storage/room-purge-repository.ts';
import { SearchRepository } from '../../storage/search-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { LegalHolds } from '../legal-hold/legal-holds.ts';

const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';
const REMOTE = '@rita:remote.test';
const OFFICER = '@officer:local.test';

/** Tables a purge empties of the room, keyed by room. */
const BY_ROOM = [
  'events',
  'event_transactions',
  'event_relations',
  'event_search',
  'purged_events',
  'state_snapshots',
  'current_state',
  'forward_extremities',
  'receipts',
  'user_notifications',
  'push_outbox',
  'room_aliases',
  'account_data',
  'forgotten_rooms',
  'e2e_backup_keys',
  'server_notice_rooms',
  'webhooks',
  'rooms',
] as const satisfies readonly PurgedTable[];
/** Tables a purge empties of the room, keyed by the room's events. */
const BY_EVENT = ['event_edges', 'event_auth', 'federation_outbox'] as const satisfies readonly PurgedTable[];
/** Tables a purge leaves alone (Synapse keeps blocks and reports too). */
const KEPT = ['blocked_rooms', 'content_reports', 'room_deletions'] as const;

describeEngines('admin room purge', (getDb) => {
  let now = 1_760_000_000_000;
  const clock = (): number => now;
  let rs: Roomserver;
  let purges: RoomPurgeRepository;
  let holds: LegalHolds;
  let seq = 0;

  before(async () => {
    await getDb().kysely.insertInto('users').values({ user_id: ALICE, password_hash: null, created_ts: now }).execute();
    rs = localRoomserver(getDb(), new TestKeyring(), clock);
    purges = new RoomPurgeRepository(getDb());
    holds = new LegalHolds(getDb(), clock);
  });

  /** A room with history and a row in every table that can name a room. */
  async function populatedRoom(): Promise<{ roomId: string; eventIds: string[] }> {
    now += 1; // v12 room IDs derive from the create event: distinct times, distinct rooms
    const { roomId } = await rs.createRoom({
      creator: ALICE,
      roomVersion: '12',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    });
    await rs.setMembership({ roomId, sender: BOB, target: BOB, membership: 'join' });
    const message = (await rs.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello' } })).eventId;
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.topic', stateKey: '', content: { topic: 'plans' } });
    const reaction = (
      await rs.sendEvent({ roomId, sender: ALICE, type: 'm.reaction', content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: message, key: '👍' } } })
    ).eventId;
    await seedSideTables(getDb(), roomId, message, reaction, ++seq, now);
    const rows = await getDb().kysely.selectFrom('events').select('event_id').where('room_id', '=', roomId).execute();
    return { roomId, eventIds: rows.map((r) => r.event_id) };
  }

  async function rowsOf(roomId: string, eventIds: readonly string[]): Promise<Record<string, number>> {
    const db = getDb().kysely;
    const counts: Record<string, number> = {};
    for (const table of [...BY_ROOM, ...KEPT]) {
      const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    for (const table of BY_EVENT) {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('event_id', 'in', eventIds.length === 0 ? [''] : [...eventIds])
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    const orphans = await db
      .selectFrom('state_snapshot_entries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('state_snapshots').select('state_snapshots.id').whereRef('state_snapshots.id', '=', 'state_snapshot_entries.snapshot_id'))))
      .executeTakeFirstOrThrow();
    counts['orphan_snapshot_entries'] = Number(orphans.n);
    return counts;
  }

  test('a purge removes every row naming the room, in every table, and nothing of other rooms', async () => {
    const doomed = await populatedRoom();
    const other = await populatedRoom();
    const before = await rowsOf(doomed.roomId, doomed.eventIds);
    for (const table of [...BY_ROOM, ...BY_EVENT, ...KEPT]) assert.ok((before[table] ?? 0) > 0, `the fixture fills ${table}`);
    const otherBefore = await rowsOf(other.roomId, other.eventIds);

    const result = await purges.purge(doomed.roomId);

    const after = await rowsOf(doomed.roomId, doomed.eventIds);
    for (const table of [...BY_ROOM, ...BY_EVENT]) assert.equal(after[table], 0, `${table} keeps nothing of the room`);
    for (const table of KEPT) assert.equal(after[table], before[table], `${table} is kept, as Synapse keeps it`);
    assert.equal(after['orphan_snapshot_entries'], 0, 'snapshot entries go with their snapshots');
    assert.deepEqual(await rowsOf(other.roomId, other.eventIds), otherBefore, 'the other room keeps every row');
    assert.equal(result.rows.events, doomed.eventIds.length);
    for (const table of [...BY_ROOM, ...BY_EVENT]) assert.equal(result.rows[table], before[table], `${table} counted`);
    assert.deepEqual(result.aliases, [`#room${seq - 1}:local.test`]);
    assert.equal(result.wasPublic, true);
    assert.ok(result.streamRange !== null && result.streamRange[0] <= result.streamRange[1]);
  });

  test('the roomserver serves the purged room from its caches until it forgets it, then not at all', async () => {
    const { roomId, eventIds } = await populatedRoom();
    assert.equal(await rs.roomVersion(roomId), '12');
    assert.deepEqual((await rs.members(roomId, 'join')).sort(), [ALICE, BOB]);
    assert.deepEqual(await rs.roomsForUser(BOB, 'join').then((rooms) => rooms.includes(roomId)), true);

    await purges.purge(roomId);
    // What forgetRoom is for: the caches still answer for a room that is gone.
    assert.equal(await rs.roomVersion(roomId), '12', 'the cached room version outlives the purge');
    rs.forgetRoom(roomId);
    assert.equal(await rs.roomVersion(roomId), undefined);
    assert.deepEqual(await rs.members(roomId, 'join'), []);
    assert.equal((await rs.roomsForUser(BOB, 'join')).includes(roomId), false);
    assert.equal(await rs.event(eventIds[0] ?? ''), undefined);
    assert.deepEqual(await rs.forwardExtremities(roomId), []);

    // The server keeps working: new rooms, and writes to rooms that were not purged.
    now += 1;
    const fresh = await rs.createRoom({ creator: ALICE, roomVersion: '12' });
    const sent = await rs.sendEvent({ roomId: fresh.roomId, sender: ALICE, type: 'm.room.message', content: { msgtype: 'm.text', body: 'still here' } });
    assert.equal((await rs.event(sent.eventId))?.json['content'] !== undefined, true);
    await assert.rejects(() => rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { msgtype: 'm.text', body: 'into the void' } }));
  });

  test('a legal hold on the room, or on a sender of its events, refuses the purge and keeps everything', async () => {
    const { roomId, eventIds } = await populatedRoom();
    const before = await rowsOf(roomId, eventIds);

    const roomHold = await holds.create({ scope: 'room', target: roomId, reason: 'litigation 7', createdBy: OFFICER });
    assert.deepEqual(await purges.holdsCovering(roomId), [roomHold.holdId]);
    await assert.rejects(() => purges.purge(roomId), (error: unknown) => error instanceof RoomUnderLegalHoldError && error.holdIds.join() === roomHold.holdId);
    assert.deepEqual(await rowsOf(roomId, eventIds), before, 'a refused purge leaves every row');
    await holds.release(roomHold.holdId, OFFICER);

    const bobHold = await holds.create({ scope: 'user', target: BOB, reason: 'investigation', createdBy: OFFICER });
    const strangerHold = await holds.create({ scope: 'user', target: REMOTE, reason: 'elsewhere', createdBy: OFFICER });
    assert.deepEqual(await purges.holdsCovering(roomId), [bobHold.holdId], 'a hold on someone who never sent here does not cover the room');
    await assert.rejects(() => purges.purge(roomId), RoomUnderLegalHoldError);
    assert.deepEqual(await rowsOf(roomId, eventIds), before);

    await holds.release(bobHold.holdId, OFFICER);
    await holds.release(strangerHold.holdId, OFFICER);
    assert.deepEqual(await purges.holdsCovering(roomId), []);
    assert.equal((await purges.purge(roomId)).rows.events, eventIds.length, 'released holds no longer refuse');
  });
});

/** One row for the room in each table the roomserver does not write itself. */
async function seedSideTables(db: StoaDatabase, roomId: string, message: string, reaction: string, n: number, ts: number): Promise<void> {
  const k = db.kysely;
  await k.insertInto('event_transactions').values({ room_id: roomId, user_id: BOB, device_id: 'DEV', txn_id: `t${n}`, event_id: message, created_ts: ts }).execute();
  await k
    .insertInto('event_relations')
    .values({ event_id: reaction, relates_to_id: message, rel_type: 'm.annotation', room_id: roomId, sender: ALICE, type: 'm.reaction', stream_ordering: n, origin_server_ts: ts, annotation_key: '👍' })
    .execute();
  await new SearchRepository(k).insertMany([
    { eventId: message, roomId, sender: BOB, type: 'm.room.message', key: 'content.body', value: 'hello', streamOrdering: n, originServerTs: ts },
  ]);
  await k.insertInto('purged_events').values({ event_id: `$purged${n}`, room_id: roomId, reason: 'retention', purged_ts: ts, original_sha256: '00' }).execute();
  await k.insertInto('receipts').values({ room_id: roomId, receipt_type: 'm.read', user_id: ALICE, thread_id: '', event_id: message, ts, stream_id: n }).execute();
  await k.insertInto('user_notifications').values({ user_id: ALICE, event_id: message, room_id: roomId, stream_ordering: n, actions: '["notify"]', highlight: false, ts }).execute();
  await k
    .insertInto('push_outbox')
    .values({ user_id: ALICE, app_id: 'app', pushkey: 'key', room_id: roomId, event_id: message, tweaks: '{}', attempts: 0, next_attempt_ts: ts, created_ts: ts })
    .execute();
  await k.insertInto('federation_outbox').values({ destination: 'remote.test', event_id: message, edu_json: null, queued_ts: ts }).execute();
  await k.insertInto('room_aliases').values({ room_alias: `#room${n}:local.test`, room_id: roomId, creator: ALICE, created_ts: ts }).execute();
  await k.updateTable('rooms').set({ is_public: true }).where('room_id', '=', roomId).execute();
  await k.insertInto('account_data').values({ user_id: ALICE, room_id: roomId, type: 'm.tag', content: '{"tags":{"u.work":{}}}', stream_id: n }).execute();
  await k.insertInto('account_data').values({ user_id: ALICE, room_id: '', type: `org.example.global${n}`, content: '{}', stream_id: n }).execute();
  await k.insertInto('forgotten_rooms').values({ user_id: BOB, room_id: roomId, membership_event_id: message, forgotten_ts: ts }).execute();
  await k
    .insertInto('e2e_backup_keys')
    .values({ user_id: ALICE, version: 1, room_id: roomId, session_id: `s${n}`, first_message_index: 0, forwarded_count: 0, is_verified: true, session_data: '{}' })
    .execute();
  await k.insertInto('server_notice_rooms').values({ user_id: `@user${n}:local.test`, room_id: roomId, created_ts: ts }).execute();
  await k
    .insertInto('webhooks')
    .values({ webhook_id: `wh${n}`, room_id: roomId, sender: ALICE, name: 'ci', secret_hash: 'x', created_by: ALICE, created_ts: ts, revoked_ts: null, last_used_ts: null })
    .execute();
  await k.insertInto('blocked_rooms').values({ room_id: roomId, blocked_by: OFFICER, blocked_ts: ts }).execute();
  await k.insertInto('content_reports').values({ ts, reporter: BOB, kind: 'room', room_id: roomId, event_id: null, target_user_id: null, reason: 'spam', score: null }).execute();
  await k
    .insertInto('room_deletions')
    .values({ delete_id: `d${n}`, room_id: roomId, status: 'complete', result: '{}', error: null, requested_by: OFFICER, created_ts: ts })
    .execute();
}
