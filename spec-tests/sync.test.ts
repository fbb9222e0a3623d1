// /sync and filters over HTTP (client-server § "Syncing", § "Filtering", § "Lazy-loading
// room members"; sync.yaml, filter.yaml). Until the accounts and room endpoints land, the
// node is assembled in-process: a real Roomserver on PGlite, the real sync and filter
// endpoints behind the real HTTP pipeline, and fixed access tokens. Every response is
// checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent, fetch } from 'undici';
import type { AccessTokenVerifier, Requester } from '../src/http/define-endpoint.ts';
import { silentLogger, startApp, type RunningApp } from '../src/http/testing.ts';
import { createEphemeralServices, type EphemeralServices } from '../src/client-api/ephemeral/index.ts';
import { filterEndpoints } from '../src/client-api/endpoints/filters/index.ts';
import { syncEndpoints } from '../src/client-api/endpoints/sync/index.ts';
import { SyncService } from '../src/client-api/sync/sync-service.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { localRoomserver, TestKeyring } from '../src/roomserver/testing.ts';
import type { Roomserver } from '../src/roomserver/index.ts';
import { FiltersRepository, migrateToLatest } from '../src/storage/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/storage/testing.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';

const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';
const CAROL = '@carol:local.test';
const TOKENS: Record<string, Requester> = {
  alice: { userId: ALICE, deviceId: 'ALICEDEV', isGuest: false },
  alice2: { userId: ALICE, deviceId: 'OTHERDEV', isGuest: false },
  bob: { userId: BOB, deviceId: 'BOBDEV', isGuest: false },
  carol: { userId: CAROL, deviceId: 'CAROLDEV', isGuest: false },
};

let database: TestDatabase;
let rs: Roomserver;
let service: SyncService;
let ephemeral: EphemeralServices;
let app: RunningApp;

before(async () => {
  database = await createTestDatabase('pglite');
  const report = await migrateToLatest(database.db);
  if (report.error !== undefined) throw report.error;
  rs = localRoomserver(database.db, new TestKeyring());
  // Account data rows reference `users`; the accounts area is not wired here, so the rows are made directly.
  await database.db.kysely
    .insertInto('users')
    .values([ALICE, BOB, CAROL].map((user_id) => ({ user_id, password_hash: null, created_ts: Date.now() })))
    .execute();
  ephemeral = createEphemeralServices({ db: database.db, roomserver: rs, serverName: 'local.test', logger: silentLogger(), clock: Date.now });
  service = new SyncService({
    roomserver: rs,
    db: database.db,
    clock: Date.now,
    sources: { typing: ephemeral.typing, receipts: ephemeral.receipts, accountData: ephemeral.accountData, presence: ephemeral.presence },
  });
  const filters = new FiltersRepository(database.db);
  const accessTokens: AccessTokenVerifier = { verify: (token) => Promise.resolve(TOKENS[token]) };
  app = await startApp({ endpoints: [...syncEndpoints(service, filters), ...filterEndpoints(filters, Date.now)], accessTokens });
});

after(async () => {
  service?.close();
  await app?.close();
  await ephemeral?.close();
  await database?.dispose();
  await noKeepAlive.close();
});

// No keep-alive: a reused idle connection can race the server closing it (ECONNRESET).
const noKeepAlive = new Agent({ pipelining: 0 });

interface Res {
  status: number;
  body: JsonObject;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${app.url}${path}`, {
    dispatcher: noKeepAlive,
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonObject };
}

async function sync(token: string, params: Record<string, string> = {}): Promise<Res> {
  const res = await call(token, 'GET', `/_matrix/client/v3/sync?${new URLSearchParams(params).toString()}`);
  if (res.status === 200) expectSpecResponse(res, 'sync');
  return res;
}

function joined(res: Res, roomId: string): JsonObject {
  const room = (res.body['rooms'] as { join?: Record<string, JsonObject> } | undefined)?.join?.[roomId];
  assert.ok(room, `room ${roomId} not in rooms.join: ${JSON.stringify(res.body)}`);
  return room;
}

function timelineOf(room: JsonObject): { events: JsonObject[]; limited: boolean; prev_batch?: string } {
  return room['timeline'] as { events: JsonObject[]; limited: boolean; prev_batch?: string };
}

function stateOf(room: JsonObject): JsonObject[] {
  return (room['state'] as { events: JsonObject[] }).events;
}

async function publicRoom(creator: string): Promise<string> {
  const { roomId } = await rs.createRoom({
    creator,
    roomVersion: '12',
    initialState: [
      { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
      { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
    ],
  });
  return roomId;
}

async function say(roomId: string, sender: string, body: string, extra: JsonObject = {}) {
  return rs.sendEvent({ roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body, ...extra } });
}

test('Syncing: initial sync of a new room: everything in the timeline, empty state', async () => {
  const roomId = await publicRoom(ALICE);
  await say(roomId, ALICE, 'one');
  const res = await sync('alice');
  assert.equal(res.status, 200);
  const room = joined(res, roomId);
  const timeline = timelineOf(room);
  assert.equal(timeline.limited, false);
  assert.deepEqual(timeline.events.map((e) => e['type']), [
    'm.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.history_visibility', 'm.room.message',
  ].filter((t) => timeline.events.some((e) => e['type'] === t)));
  assert.equal(timeline.events.at(-1)?.['content'] && (timeline.events.at(-1)?.['content'] as JsonObject)['body'], 'one');
  assert.deepEqual(stateOf(room), []);
  assert.equal(typeof res.body['next_batch'], 'string');
  assert.ok(!('room_id' in (timeline.events[0] ?? {})), 'sync events have no room_id');
  assert.deepEqual(room['unread_notifications'], { notification_count: 0, highlight_count: 0 });
});

test('Syncing: limited timeline: prev_batch, and the state at the start of the timeline', async () => {
  const roomId = await publicRoom(ALICE);
  for (let i = 0; i < 4; i++) await say(roomId, ALICE, `m${i}`);
  const res = await sync('alice', { filter: JSON.stringify({ room: { rooms: [roomId], timeline: { limit: 2 } } }) });
  const room = joined(res, roomId);
  const timeline = timelineOf(room);
  assert.equal(timeline.limited, true);
  assert.deepEqual(timeline.events.map((e) => (e['content'] as JsonObject)['body']), ['m2', 'm3']);
  assert.equal(typeof timeline.prev_batch, 'string');
  const stateTypes = stateOf(room).map((e) => e['type']).sort();
  assert.ok(stateTypes.includes('m.room.create') && stateTypes.includes('m.room.member') && stateTypes.includes('m.room.join_rules'));
  // rooms filter: no other room appears.
  assert.deepEqual(Object.keys((res.body['rooms'] as { join: JsonObject }).join), [roomId]);
});

test('Syncing: incremental sync returns exactly the new events; an empty one returns no rooms', async () => {
  const roomId = await publicRoom(ALICE);
  const first = await sync('alice');
  const since = first.body['next_batch'] as string;
  const empty = await sync('alice', { since });
  assert.equal(empty.body['rooms'], undefined);
  assert.equal(empty.body['next_batch'], since);
  const sent = await say(roomId, ALICE, 'new');
  const next = await sync('alice', { since });
  const timeline = timelineOf(joined(next, roomId));
  assert.deepEqual(timeline.events.map((e) => e['event_id']), [sent.eventId]);
  assert.equal(timeline.limited, false);
  assert.deepEqual(stateOf(joined(next, roomId)), []);
});

test('Syncing: a long-poll is woken by a new event within milliseconds; the timeout is respected', async () => {
  const roomId = await publicRoom(ALICE);
  const since = (await sync('alice')).body['next_batch'] as string;
  const started = Date.now();
  const quiet = await sync('alice', { since, timeout: '300' });
  const waited = Date.now() - started;
  assert.equal(quiet.body['rooms'], undefined);
  assert.ok(waited >= 280 && waited < 5000, `waited ${waited} ms`);

  const polling = sync('alice', { since, timeout: '20000' });
  await new Promise((resolve) => setTimeout(resolve, 150));
  const sentAt = Date.now();
  const sent = await say(roomId, ALICE, 'wake');
  const res = await polling;
  const latency = Date.now() - sentAt;
  assert.deepEqual(timelineOf(joined(res, roomId)).events.map((e) => e['event_id']), [sent.eventId]);
  assert.ok(latency < 1000, `woken after ${latency} ms`);
});

test('Syncing: invite appears in rooms.invite with stripped state; join makes a full room; leave a left room', async () => {
  const roomId = await publicRoom(ALICE);
  await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.name', stateKey: '', content: { name: 'Lobby' } });
  const since0 = (await sync('bob')).body['next_batch'] as string;
  await rs.setMembership({ roomId, sender: ALICE, target: BOB, membership: 'invite' });
  const invited = await sync('bob', { since: since0 });
  const inviteState = ((invited.body['rooms'] as { invite: Record<string, { invite_state: { events: JsonObject[] } }> }).invite[roomId])?.invite_state.events;
  assert.ok(inviteState);
  assert.ok(inviteState.some((e) => e['type'] === 'm.room.create'));
  assert.ok(inviteState.some((e) => e['type'] === 'm.room.name' && (e['content'] as JsonObject)['name'] === 'Lobby'));
  assert.ok(inviteState.some((e) => e['type'] === 'm.room.member' && e['state_key'] === BOB && (e['content'] as JsonObject)['membership'] === 'invite'));

  const since1 = invited.body['next_batch'] as string;
  await rs.setMembership({ roomId, sender: BOB, target: BOB, membership: 'join' });
  const joinedRes = await sync('bob', { since: since1 });
  const room = joined(joinedRes, roomId);
  const everything = [...stateOf(room), ...timelineOf(room).events];
  assert.ok(everything.some((e) => e['type'] === 'm.room.create'), 'a newly joined room carries its full state');
  assert.ok(everything.some((e) => e['type'] === 'm.room.member' && e['state_key'] === BOB));

  const since2 = joinedRes.body['next_batch'] as string;
  const leave = await rs.setMembership({ roomId, sender: BOB, target: BOB, membership: 'leave' });
  const left = await sync('bob', { since: since2 });
  const leftRoom = (left.body['rooms'] as { leave: Record<string, JsonObject> }).leave[roomId];
  assert.ok(leftRoom);
  assert.deepEqual(timelineOf(leftRoom).events.map((e) => e['event_id']), [leave.eventId]);
  assert.equal((left.body['rooms'] as { join?: JsonObject }).join?.[roomId], undefined);
  // Alice's message after the leave is not shown to Bob.
  const since3 = left.body['next_batch'] as string;
  await say(roomId, ALICE, 'after bob left');
  assert.equal((await sync('bob', { since: since3 })).body['rooms'], undefined);
});

test('Filtering: timeline types and lazy_load_members', async () => {
  const roomId = await publicRoom(ALICE);
  // A named room needs no heroes, whose member events lazy loading would otherwise add (sync.yaml m.heroes).
  await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.name', stateKey: '', content: { name: 'named' } });
  for (const user of [BOB, CAROL]) await rs.setMembership({ roomId, sender: user, target: user, membership: 'join' });
  await say(roomId, BOB, 'from bob');
  const res = await sync('alice', {
    filter: JSON.stringify({
      room: { rooms: [roomId], timeline: { limit: 1, types: ['m.room.message'] }, state: { lazy_load_members: true } },
    }),
  });
  const room = joined(res, roomId);
  assert.deepEqual(timelineOf(room).events.map((e) => e['type']), ['m.room.message']);
  const members = stateOf(room).filter((e) => e['type'] === 'm.room.member').map((e) => e['state_key']).sort();
  assert.deepEqual(members, [ALICE, BOB].sort(), 'only the timeline sender and the syncing user');
  assert.ok(stateOf(room).some((e) => e['type'] === 'm.room.create'));
  const summary = room['summary'] as JsonObject;
  assert.equal(summary['m.joined_member_count'], 3);
  assert.equal(summary['m.invited_member_count'], 0);

  const unnamed = await publicRoom(ALICE);
  await rs.setMembership({ roomId: unnamed, sender: CAROL, target: CAROL, membership: 'join' });
  await say(unnamed, ALICE, 'hi');
  const heroesRes = await sync('alice', {
    filter: JSON.stringify({ room: { rooms: [unnamed], timeline: { limit: 1 }, state: { lazy_load_members: true } } }),
  });
  const heroRoom = joined(heroesRes, unnamed);
  assert.deepEqual((heroRoom['summary'] as JsonObject)['m.heroes'], [CAROL]);
  assert.ok(stateOf(heroRoom).some((e) => e['type'] === 'm.room.member' && e['state_key'] === CAROL), 'heroes\' member events are included');

  const full = await sync('alice', { filter: JSON.stringify({ room: { rooms: [roomId], timeline: { limit: 1 } } }) });
  const allMembers = stateOf(joined(full, roomId)).filter((e) => e['type'] === 'm.room.member').map((e) => e['state_key']);
  assert.ok(allMembers.includes(CAROL), 'without lazy loading every member is sent');
});

test('Syncing: full_state returns the whole state on an incremental sync, without waiting', async () => {
  const roomId = await publicRoom(ALICE);
  const filter = JSON.stringify({ room: { rooms: [roomId] } });
  const since = (await sync('alice', { filter })).body['next_batch'] as string;
  const started = Date.now();
  const res = await sync('alice', { filter, since, full_state: 'true', timeout: '10000' });
  assert.ok(Date.now() - started < 5000);
  const room = joined(res, roomId);
  assert.deepEqual(timelineOf(room).events, []);
  const types = stateOf(room).map((e) => e['type']);
  assert.ok(types.includes('m.room.create') && types.includes('m.room.join_rules') && types.includes('m.room.member'));
});

test('Syncing: unread_notifications count messages from others after the read point, highlights for m.mentions', async () => {
  const roomId = await publicRoom(ALICE);
  await rs.setMembership({ roomId, sender: BOB, target: BOB, membership: 'join' });
  const filter = JSON.stringify({ room: { rooms: [roomId] } });
  await say(roomId, BOB, 'hello');
  await say(roomId, BOB, 'ping', { 'm.mentions': { user_ids: [ALICE] } });
  await say(roomId, BOB, 'hey alice, no m.mentions here');
  let room = joined(await sync('alice', { filter }), roomId);
  // The push rules decide (§ "Receiving notifications"): since v1.17 the default rules no
  // longer match names in the body, so only the `m.mentions` message highlights.
  assert.deepEqual(room['unread_notifications'], { notification_count: 3, highlight_count: 1 });
  await say(roomId, ALICE, 'read it all');
  room = joined(await sync('alice', { filter }), roomId);
  assert.deepEqual(room['unread_notifications'], { notification_count: 0, highlight_count: 0 });
});

test('Transaction identifiers: transaction_id only for the sending device', async () => {
  const roomId = await publicRoom(ALICE);
  const sent = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'x', msgtype: 'm.text' }, txnId: 'txn1', deviceId: 'ALICEDEV' });
  const filter = JSON.stringify({ room: { rooms: [roomId] } });
  const find = (res: Res) => timelineOf(joined(res, roomId)).events.find((e) => e['event_id'] === sent.eventId);
  assert.equal((find(await sync('alice', { filter }))?.['unsigned'] as JsonObject)['transaction_id'], 'txn1');
  assert.equal((find(await sync('alice2', { filter }))?.['unsigned'] as JsonObject)['transaction_id'], undefined);
});

test('Syncing: typing, receipts and account data arrive in their sections', async () => {
  const roomId = await publicRoom(ALICE);
  await rs.setMembership({ roomId, sender: BOB, target: BOB, membership: 'join' });
  const msg = await say(roomId, BOB, 'read me');
  const filter = JSON.stringify({ room: { rooms: [roomId] } });
  const since = (await sync('alice', { filter })).body['next_batch'] as string;
  ephemeral.typing.setTyping(roomId, BOB, true, 10_000);
  const typingRes = await sync('alice', { filter, since, timeout: '5000' });
  const typingEvents = (joined(typingRes, roomId)['ephemeral'] as { events: JsonObject[] }).events;
  assert.deepEqual(typingEvents.find((e) => e['type'] === 'm.typing')?.['content'], { user_ids: [BOB] });
  ephemeral.typing.setTyping(roomId, BOB, false);

  // Receipts (§ "Receipts"): the m.receipt event, and the read receipt resets the unread count.
  const since2 = typingRes.body['next_batch'] as string;
  assert.equal((joined(await sync('alice', { filter, since: since2 }), roomId)['unread_notifications'] as JsonObject)['notification_count'], 1);
  await ephemeral.receipts.ready();
  await ephemeral.receipts.sendReceipt({ roomId, userId: ALICE, receiptType: 'm.read', eventId: msg.eventId });
  const receiptRes = await sync('alice', { filter, since: since2, timeout: '5000' });
  const receiptRoom = joined(receiptRes, roomId);
  const receipt = (receiptRoom['ephemeral'] as { events: JsonObject[] }).events.find((e) => e['type'] === 'm.receipt');
  const readers = ((receipt?.['content'] as Record<string, Record<string, Record<string, JsonObject>>>)[msg.eventId]?.['m.read']) ?? {};
  assert.equal(typeof readers[ALICE]?.['ts'], 'number');
  assert.deepEqual(receiptRoom['unread_notifications'], { notification_count: 0, highlight_count: 0 });

  // Account data (§ "Client Config"): global and per room.
  await ephemeral.accountData.ready();
  const since3 = receiptRes.body['next_batch'] as string;
  await ephemeral.accountData.set(ALICE, undefined, 'org.example.global', { a: 1 });
  await ephemeral.accountData.set(ALICE, roomId, 'org.example.room', { b: 2 });
  const adRes = await sync('alice', { filter, since: since3 });
  assert.deepEqual((adRes.body['account_data'] as { events: JsonObject[] }).events, [{ type: 'org.example.global', content: { a: 1 } }]);
  assert.deepEqual((joined(adRes, roomId)['account_data'] as { events: JsonObject[] }).events, [{ type: 'org.example.room', content: { b: 2 } }]);
});

test('Filtering: upload, download, use by ID; errors', async () => {
  const body = { room: { timeline: { limit: 3, types: ['m.room.message'] } }, event_fields: ['type', 'content'] };
  const created = await call('alice', 'POST', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter`, body);
  expectSpecResponse(created, 'defineFilter');
  const filterId = created.body['filter_id'] as string;
  assert.ok(!filterId.startsWith('{'));
  const again = await call('alice', 'POST', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter`, body);
  assert.equal(again.body['filter_id'], filterId, 'the same filter gets the same ID');
  const got = await call('alice', 'GET', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter/${filterId}`);
  expectSpecResponse(got, 'getFilter');
  assert.deepEqual(got.body, body);
  // event_fields leaves out fields the schema requires, so this response is checked by hand.
  const res = await call('alice', 'GET', `/_matrix/client/v3/sync?filter=${filterId}`);
  for (const room of Object.values((res.body['rooms'] as { join: Record<string, JsonObject> }).join)) {
    for (const event of timelineOf(room).events) assert.deepEqual(Object.keys(event).sort(), ['content', 'type']);
  }

  expectMatrixError(await call('bob', 'GET', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter/${filterId}`), 403, 'M_FORBIDDEN');
  expectMatrixError(await call('bob', 'POST', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter`, body), 403, 'M_FORBIDDEN');
  expectMatrixError(await call('alice', 'GET', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter/999999`), 404, 'M_NOT_FOUND');
  expectMatrixError(await call('alice', 'POST', `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter`, { room: { timeline: { limit: 0 } } }), 400, 'M_BAD_JSON');
  expectMatrixError(await sync('alice', { filter: '999999' }), 400, 'M_INVALID_PARAM');
  expectMatrixError(await sync('alice', { filter: '{not json' }), 400, 'M_NOT_JSON');
  expectMatrixError(await sync('alice', { since: 'garbled' }), 400, 'M_INVALID_PARAM');
  expectMatrixError(await sync('alice', { timeout: '-5' }), 400, 'M_INVALID_PARAM');
  expectMatrixError(await sync('alice', { set_presence: 'away' }), 400, 'M_INVALID_PARAM');
});

test('Syncing: closing the service wakes pending long-polls', async () => {
  const since = (await sync('carol')).body['next_batch'] as string;
  const extra = new SyncService({ roomserver: rs, db: database.db, clock: Date.now });
  const started = Date.now();
  const pending = extra.sync({
    userId: CAROL, deviceId: 'CAROLDEV', since: (await import('../src/client-api/sync/sync-token.ts')).parseSyncToken(since, 'since'),
    filter: (await import('../src/client-api/filters/sync-filter.ts')).DEFAULT_SYNC_FILTER,
    fullState: false, timeoutMs: 60_000, setPresence: 'offline',
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  extra.close();
  const res = await pending;
  assert.ok(Date.now() - started < 5000);
  assert.equal(typeof res['next_batch'], 'string');
});
