// Purging on a real node (issue 8 items 3, 4 and 5): Synapse's Delete Room API with
// `purge` (element-hq/synapse docs/admin_api/rooms.md, "Delete Room API": "If `purge` is
// `true` (the default), all traces of the old room will be removed from your database"),
// refused while a legal hold covers the room (Stoa's rule, as for retention: a hold on the
// room or on a sender of its events), and the retention purge, after which nothing purged
// is served from the roomserver's caches. Synapse's admin API has no OpenAPI in the Matrix
// spec: its shapes are checked field by field, client calls against the spec's OpenAPI.
// With STOA_TEST_POSTGRES_URL the node runs on PostgreSQL and the tables are inspected too.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { clientCalls, ok } from './rig/client-calls.ts';
import { startComplianceNode } from './rig/compliance-node.ts';
import { stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import type { RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

const POSTGRES = testPostgresUrl() !== undefined;
let node: TestNode;
let admin: RegisteredUser;
let officer: RegisteredUser;
let alice: RegisteredUser;
let bob: RegisteredUser;
const enc = encodeURIComponent;
const { call, client, createRoom, send, join } = clientCalls(() => node.clientUrl, { txnPrefix: 'p' });

async function eventContent(user: RegisteredUser, roomId: string, eventId: string): Promise<Json> {
  const res = await client(user, 'GET', `/rooms/${enc(roomId)}/event/${enc(eventId)}`);
  expectSpecResponse(res, 'getOneRoomEvent');
  return (res.body as Json)['content'] as Json;
}
async function contextContent(user: RegisteredUser, roomId: string, eventId: string): Promise<Json> {
  const res = await client(user, 'GET', `/rooms/${enc(roomId)}/context/${enc(eventId)}?limit=2`);
  expectSpecResponse(res, 'getEventContext');
  return ((res.body as Json)['event'] as Json)['content'] as Json;
}
async function auditEntries(): Promise<Json[]> {
  const entries: Json[] = [];
  for (let from = '0'; ; ) {
    const page = await ok(call(admin, 'GET', `/_stoa/admin/v1/audit_log?from=${from}&limit=100`));
    entries.push(...(page['entries'] as Json[]));
    if (typeof page['next_token'] !== 'string') return entries;
    from = page['next_token'];
  }
}
/** Rows naming the room in the node's tables (PostgreSQL only: PGlite is the node's alone). */
async function roomRows(roomId: string, eventIds: readonly string[]): Promise<Record<string, number> | undefined> {
  if (!POSTGRES) return undefined;
  const db = new pg.Client({ connectionString: String((node.config['database'] as { url: string }).url) });
  await db.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of ['events', 'current_state', 'forward_extremities', 'state_snapshots', 'receipts', 'room_aliases', 'account_data', 'event_relations', 'rooms']) {
      counts[table] = (await db.query<{ n: number }>(`select count(*)::int as n from ${table} where room_id = $1`, [roomId])).rows[0]?.n ?? -1;
    }
    for (const table of ['event_edges', 'event_auth']) {
      counts[table] = (await db.query<{ n: number }>(`select count(*)::int as n from ${table} where event_id = any($1)`, [eventIds])).rows[0]?.n ?? -1;
    }
    return counts;
  } finally {
    await db.end();
  }
}

before(async () => {
  ({ node, admin, officer, alice, bob } = await startComplianceNode());
});
after(() => stopNodes([node]));

describe('Delete Room API with purge', () => {
  test('rooms.md § Delete Room API: purge removes the room; details answer 404; other rooms and new rooms work', async () => {
    const doomed = await createRoom(alice, { preset: 'public_chat', name: 'Doomed', room_alias_name: 'doomed', visibility: 'public' });
    const kept = await createRoom(alice, { preset: 'public_chat', name: 'Kept' });
    await join(bob, doomed);
    await join(bob, kept);
    const hello = await send(bob, doomed, { msgtype: 'm.text', body: 'hello' });
    await send(alice, doomed, { 'm.relates_to': { rel_type: 'm.annotation', event_id: hello, key: '👍' } }, 'm.reaction');
    expectSpecResponse(await client(alice, 'POST', `/rooms/${enc(doomed)}/receipt/m.read/${enc(hello)}`, {}), 'postReceipt');
    expectSpecResponse(await client(alice, 'PUT', `/user/${enc(alice.userId)}/rooms/${enc(doomed)}/tags/u.work`, {}), 'setRoomTag');
    const keptMessage = await send(bob, kept, { msgtype: 'm.text', body: 'still here' });
    // Read through every cache the reads use before the purge.
    assert.equal((await eventContent(alice, doomed, hello))['body'], 'hello');
    assert.equal((await contextContent(alice, doomed, hello))['body'], 'hello');
    await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(doomed)}`));
    const members = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(doomed)}/members`));
    assert.deepEqual((members['members'] as string[]).sort(), [alice.userId, bob.userId].sort());
    const doomedEvents = ((await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(doomed)}/messages?limit=100`)))['chunk'] as Json[]).map(
      (e) => e['event_id'] as string,
    );
    const before = await roomRows(doomed, doomedEvents);
    if (before !== undefined) for (const [table, n] of Object.entries(before)) assert.ok(n > 0, `the room has rows in ${table} before`);

    const result = await ok(call(admin, 'DELETE', `/_synapse/admin/v1/rooms/${enc(doomed)}`, { purge: true }));
    assert.deepEqual((result['kicked_users'] as string[]).sort(), [alice.userId, bob.userId].sort());
    assert.deepEqual(result['failed_to_kick_users'], []);
    assert.deepEqual(result['local_aliases'], [`#doomed:${node.serverName}`]);
    assert.equal(result['new_room_id'], null);

    // Synapse answers 404 for a room it no longer has.
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(doomed)}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(doomed)}/members`), 404, 'M_NOT_FOUND');
    const list = await ok(call(admin, 'GET', '/_synapse/admin/v1/rooms?limit=1000'));
    assert.ok(!(list['rooms'] as Json[]).some((r) => r['room_id'] === doomed), 'not listed');
    expectMatrixError(await client(alice, 'GET', `/directory/room/${enc(`#doomed:${node.serverName}`)}`), 404, 'M_NOT_FOUND');
    const directory = await client(alice, 'GET', '/publicRooms');
    expectSpecResponse(directory, 'client-server:getPublicRooms');
    assert.ok(!((directory.body as Json)['chunk'] as Json[]).some((r) => r['room_id'] === doomed), 'out of the directory');
    for (const read of [`/rooms/${enc(doomed)}/event/${enc(hello)}`, `/rooms/${enc(doomed)}/context/${enc(hello)}`]) {
      const res = await client(alice, 'GET', read);
      assert.ok(res.status === 404 || res.status === 403, `${read}: ${res.status} ${res.text}`);
      assert.ok(!res.text.includes('hello'), 'nothing of the purged event is served');
    }
    const rejoin = await client(bob, 'POST', `/rooms/${enc(doomed)}/join`, {});
    assert.ok(rejoin.status >= 400 && rejoin.status < 500, `joining a purged room fails cleanly: ${rejoin.status} ${rejoin.text}`);
    expectMatrixError(await client(alice, 'POST', `/rooms/${enc(doomed)}/ban`, { user_id: bob.userId }), 404, 'M_NOT_FOUND');
    const after = await roomRows(doomed, doomedEvents);
    if (after !== undefined) for (const [table, n] of Object.entries(after)) assert.equal(n, 0, `${table} keeps nothing of the room`);

    // The purge is in the audit log with what it removed.
    const entry = (await auditEntries()).find((e) => e['action'] === 'purge-room' && e['target'] === doomed);
    assert.equal(entry?.['actor'], admin.userId);
    const rows = (entry?.['details'] as Json)['rows'] as Json;
    assert.ok((rows['events'] as number) >= doomedEvents.length, `events counted: ${JSON.stringify(rows)}`);
    assert.deepEqual((entry?.['details'] as Json)['local_aliases'], [`#doomed:${node.serverName}`]);
    // The room is unknown now, to the roomserver's caches too: deleting it again finds nothing to purge.
    const again = await ok(call(admin, 'DELETE', `/_synapse/admin/v1/rooms/${enc(doomed)}`, { purge: true }));
    assert.deepEqual(again['kicked_users'], []);
    assert.equal((await auditEntries()).filter((e) => e['action'] === 'purge-room' && e['target'] === doomed).length, 1);

    // The server keeps working.
    assert.equal((await eventContent(bob, kept, keptMessage))['body'], 'still here');
    await send(alice, kept, { msgtype: 'm.text', body: 'after the purge' });
    const fresh = await createRoom(alice, { preset: 'private_chat', name: 'Fresh' });
    await send(alice, fresh, { msgtype: 'm.text', body: 'new room' });
    await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(fresh)}`));
    const sync = await client(alice, 'GET', '/sync?timeout=0');
    expectSpecResponse(sync, 'sync');
    const joined = ((sync.body as Json)['rooms'] as Json | undefined)?.['join'] as Json | undefined;
    assert.ok(joined !== undefined && fresh in joined && kept in joined && !(doomed in joined));
  });

  test('a legal hold on the room, or on one of its senders, refuses the purge and changes nothing; released, the purge runs', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat', name: 'Evidence' });
    await join(bob, roomId);
    const message = await send(bob, roomId, { msgtype: 'm.text', body: 'exhibit A' });
    const hold = await ok(call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { scope: 'room', target: roomId, reason: 'case 88' }));

    expectMatrixError(await call(admin, 'DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, { purge: true }), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(admin, 'DELETE', `/_synapse/admin/v1/rooms/${enc(roomId)}`, {}), 403, 'M_FORBIDDEN'); // purge defaults to true
    const details = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(roomId)}`));
    assert.equal(details['joined_members'], 2, 'nobody was made to leave');
    assert.equal((await eventContent(alice, roomId, message))['body'], 'exhibit A');
    const refused = (await auditEntries()).filter((e) => e['action'] === 'purge-room-refused' && e['target'] === roomId);
    assert.equal(refused.length, 2);
    assert.deepEqual((refused[0]?.['details'] as Json)['hold_ids'], [hold['id']]);

    await ok(call(officer, 'POST', `/_stoa/admin/v1/legal_holds/${enc(hold['id'] as string)}/release`, {}));
    const bobHold = await ok(call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { scope: 'user', target: bob.userId, reason: 'custodian' }));
    expectMatrixError(await call(admin, 'DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, { purge: true }), 403, 'M_FORBIDDEN');
    assert.equal((await eventContent(alice, roomId, message))['body'], 'exhibit A', 'a sender\'s hold keeps the room too');

    // Shutting down without purging is not refused: nothing held is removed.
    const shut = await ok(call(admin, 'DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, { purge: false }));
    const status = await ok(call(admin, 'GET', `/_synapse/admin/v2/rooms/delete_status/${shut['delete_id'] as string}`));
    assert.equal(status['status'], 'complete');
    await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(roomId)}`));

    await ok(call(officer, 'POST', `/_stoa/admin/v1/legal_holds/${enc(bobHold['id'] as string)}/release`, {}));
    const deleted = await ok(call(admin, 'DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, { purge: true }));
    const done = await ok(call(admin, 'GET', `/_synapse/admin/v2/rooms/delete_status/${deleted['delete_id'] as string}`));
    assert.equal(done['status'], 'complete');
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(roomId)}`), 404, 'M_NOT_FOUND');
  });
});

describe('retention purge and the roomserver caches', () => {
  test('after the retention purge, /event and /context serve the purged form, not a cached original', async () => {
    const retention = { type: 'm.room.retention', state_key: '', content: { max_lifetime: 1 } };
    const roomId = await createRoom(alice, { preset: 'public_chat', name: 'Short-lived', initial_state: [retention] });
    await join(bob, roomId);
    const old = await send(bob, roomId, { msgtype: 'm.text', body: 'ephemeral words' });
    await send(alice, roomId, { 'm.relates_to': { rel_type: 'm.annotation', event_id: old, key: 'ok' } }, 'm.reaction');
    const latest = await send(alice, roomId, { msgtype: 'm.text', body: 'latest' });
    // Warm whatever caches the reads and writes fill.
    assert.equal((await eventContent(alice, roomId, old))['body'], 'ephemeral words');
    assert.equal((await contextContent(bob, roomId, old))['body'], 'ephemeral words');

    const summary = await ok(call(admin, 'POST', '/_stoa/admin/v1/retention/purge', {}));
    assert.ok(((summary['rooms'] as Json)[roomId] as number) >= 1, JSON.stringify(summary));

    assert.deepEqual(await eventContent(alice, roomId, old), {}, '/event: the content is gone');
    assert.deepEqual(await contextContent(bob, roomId, old), {}, '/context: the content is gone');
    const messages = await client(alice, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=20`);
    expectSpecResponse(messages, 'getRoomEvents');
    assert.ok(!messages.text.includes('ephemeral words'), '/messages serves no purged content');
    assert.equal((await eventContent(alice, roomId, latest))['body'], 'latest', 'the latest event stays');
    // Writes after the purge build on the purged events without bringing anything back.
    await send(bob, roomId, { msgtype: 'm.text', body: 'after' });
    assert.deepEqual(await eventContent(alice, roomId, old), {});
  });
});
