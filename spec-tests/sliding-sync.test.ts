// Simplified sliding sync (MSC4186, issue 9 item 7) over HTTP against a real node, as
// Synapse serves it at POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync:
// lists with ranges sorted by recency (`bump_stamp`), per-connection incremental responses
// (`pos`), required_state (wildcards, `$LAZY`, `$ME`), room subscriptions, timeline limits,
// invites, the to-device/e2ee/account-data/receipts/typing extensions, long-polling and
// M_UNKNOWN_POS. The MSC is not in the spec checkout, so sliding sync bodies are checked
// against the MSC's shapes here; every other response against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519KeyPairFromSeed, generateEd25519Seed, type Ed25519KeyPair } from '../src/crypto/ed25519.ts';
import { signableBytes } from '../src/crypto/signed-json.ts';
import { encodeBase64 } from '../src/rooms/base64.ts';
import { clientCalls } from './rig/client-calls.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;
interface SsRoom {
  bump_stamp?: number;
  initial?: boolean;
  name?: string;
  required_state?: Json[];
  timeline?: Json[];
  limited?: boolean;
  prev_batch?: string;
  num_live?: number;
  invite_state?: Json[];
  joined_count?: number;
  invited_count?: number;
  notification_count?: number;
  highlight_count?: number;
  heroes?: Json[];
  is_dm?: boolean;
}
interface SsResponse {
  pos: string;
  lists: Record<string, { count: number }>;
  rooms: Record<string, SsRoom>;
  extensions: Json;
}

const SS_PATH = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';
const enc = encodeURIComponent;
let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let txn = 0;
let userCount = 0;

const { client } = clientCalls(() => node.clientUrl);
async function ok(res: Promise<HttpResponse>, operation: string): Promise<Json> {
  const r = await res;
  expectSpecResponse(r, operation);
  return r.body as Json;
}
function rawSlidingSync(user: RegisteredUser, body: unknown, query: { pos?: string; timeout?: number } = {}): Promise<HttpResponse> {
  const params = new URLSearchParams();
  if (query.pos !== undefined) params.set('pos', query.pos);
  if (query.timeout !== undefined) params.set('timeout', String(query.timeout));
  const qs = params.size === 0 ? '' : `?${params}`;
  return request(`${node.clientUrl}${SS_PATH}${qs}`, { method: 'POST', headers: { authorization: `Bearer ${user.accessToken}` }, body });
}
async function slidingSync(user: RegisteredUser, body: unknown, query: { pos?: string; timeout?: number } = {}): Promise<SsResponse> {
  const res = await rawSlidingSync(user, body, query);
  assert.equal(res.status, 200, res.text);
  expectSlidingSyncShape(res.body);
  return res.body as SsResponse;
}

/** The MSC4186 response shape (Synapse's SlidingSyncRestServlet.encode_response). */
function expectSlidingSyncShape(body: unknown): void {
  assert.ok(isObject(body), 'body is an object');
  assert.equal(typeof body['pos'], 'string', 'pos');
  assert.ok(isObject(body['lists']), 'lists');
  for (const list of Object.values(body['lists'])) {
    assert.ok(isObject(list) && Number.isInteger(list['count']), 'list has an integer count');
  }
  assert.ok(isObject(body['rooms']), 'rooms');
  for (const [roomId, room] of Object.entries(body['rooms'])) {
    assert.match(roomId, /^!/);
    assert.ok(isObject(room), 'room entry is an object');
    for (const key of ['bump_stamp', 'num_live', 'joined_count', 'invited_count', 'notification_count', 'highlight_count']) {
      if (key in room) assert.ok(Number.isInteger(room[key]), `${key} is an integer`);
    }
    for (const key of ['initial', 'limited', 'is_dm']) if (key in room) assert.equal(typeof room[key], 'boolean', key);
    for (const key of ['name', 'avatar', 'prev_batch']) if (key in room) assert.equal(typeof room[key], 'string', key);
    for (const key of ['timeline', 'required_state', 'invite_state', 'heroes']) if (key in room) assert.ok(Array.isArray(room[key]), key);
    for (const event of [...((room['timeline'] as unknown[]) ?? []), ...((room['required_state'] as unknown[]) ?? [])]) {
      assert.ok(isObject(event), 'event');
      for (const key of ['event_id', 'type', 'sender']) assert.equal(typeof event[key], 'string', key);
      assert.ok(Number.isInteger(event['origin_server_ts']));
      assert.ok(isObject(event['content']));
    }
    for (const event of (room['required_state'] as unknown[]) ?? []) assert.equal(typeof (event as Json)['state_key'], 'string');
    for (const event of (room['invite_state'] as unknown[]) ?? []) {
      assert.ok(isObject(event) && typeof event['type'] === 'string' && typeof event['state_key'] === 'string' && isObject(event['content']));
    }
  }
  assert.ok(isObject(body['extensions']), 'extensions');
}
function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function newUser(): Promise<RegisteredUser> {
  return registerUser(node, `ss${++userCount}`);
}
async function createRoom(user: RegisteredUser, body: Json = {}): Promise<string> {
  return (await ok(client(user, 'POST', '/createRoom', { preset: 'public_chat', ...body }), 'createRoom'))['room_id'] as string;
}
async function join(user: RegisteredUser, roomId: string): Promise<void> {
  await ok(client(user, 'POST', `/join/${enc(roomId)}`, {}), 'joinRoomById');
}
async function send(user: RegisteredUser, roomId: string, text: string): Promise<string> {
  const body = await ok(client(user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body: text }), 'sendMessage');
  return body['event_id'] as string;
}
function sortedByBump(rooms: Record<string, SsRoom>): string[] {
  return Object.entries(rooms).sort(([, a], [, b]) => (b.bump_stamp ?? 0) - (a.bump_stamp ?? 0)).map(([id]) => id);
}
function list(ranges: number[][], extra: Json = {}): Json {
  return { ranges, required_state: [], timeline_limit: 1, ...extra };
}

before(async () => {
  // PostgreSQL when the run provides one (the bump-stamp query's aggregate types differ), else PGlite.
  [node] = (await startNodes(1, testPostgresUrl() === undefined ? {} : { engine: 'postgres' })) as [TestNode];
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  carol = await registerUser(node, 'carol');
});
after(async () => {
  await stopNodes(node === undefined ? [] : [node]);
});

describe('MSC4186 simplified sliding sync', () => {
  test('client-server § GET /versions advertises org.matrix.simplified_msc3575 in unstable_features', async () => {
    const res = await request(`${node.clientUrl}/_matrix/client/versions`);
    expectSpecResponse(res, 'getVersions');
    assert.equal(((res.body as Json)['unstable_features'] as Json)['org.matrix.simplified_msc3575'], true);
  });

  test('MSC4186 § lists: ranges give the count and the rooms in recency (bump_stamp) order', async () => {
    const u = await newUser();
    const rooms: string[] = [];
    for (let i = 0; i < 5; i++) rooms.push(await createRoom(u, { name: `room ${i}` }));
    // Recency now: a message in rooms[1], then rooms[3]; creations order the rest.
    await send(u, rooms[1]!, 'one');
    await send(u, rooms[3]!, 'three');
    const truth = [rooms[3]!, rooms[1]!, rooms[4]!, rooms[2]!, rooms[0]!];
    const top = await slidingSync(u, { lists: { all: list([[0, 2]]) } });
    assert.deepEqual(top.lists, { all: { count: 5 } });
    assert.deepEqual(sortedByBump(top.rooms), truth.slice(0, 3));
    for (const room of Object.values(top.rooms)) {
      assert.equal(room.initial, true);
      assert.equal(typeof room.name, 'string');
      assert.equal(room.joined_count, 1);
    }
    const rest = await slidingSync(u, { lists: { all: list([[3, 10]]) } });
    assert.deepEqual(sortedByBump(rest.rooms), truth.slice(3));
    const two = await slidingSync(u, { lists: { all: list([[0, 0], [4, 4]]) } });
    assert.deepEqual(sortedByBump(two.rooms), [truth[0], truth[4]]);
    const noRanges = await slidingSync(u, { lists: { all: { required_state: [], timeline_limit: 1 } } });
    assert.deepEqual(noRanges.lists, { all: { count: 5 } });
    assert.deepEqual(noRanges.rooms, {});
  });

  test('MSC4186 § pos: a new message moves its room to the top; the incremental response has just that room and event', async () => {
    const u = await newUser();
    const rooms: string[] = [];
    for (let i = 0; i < 4; i++) rooms.push(await createRoom(u));
    const body = { lists: { all: list([[0, 9]], { timeline_limit: 5 }) } };
    const first = await slidingSync(u, body);
    assert.equal(Object.keys(first.rooms).length, 4);
    const oldest = sortedByBump(first.rooms).at(-1)!;
    assert.equal(oldest, rooms[0]);
    const eventId = await send(u, oldest, 'back to the top');
    const next = await slidingSync(u, body, { pos: first.pos });
    assert.deepEqual(Object.keys(next.rooms), [oldest]);
    const entry = next.rooms[oldest]!;
    assert.equal(entry.initial, undefined);
    assert.deepEqual(entry.timeline!.map((e) => e['event_id']), [eventId]);
    assert.equal(entry.num_live, 1);
    assert.equal(entry.limited, false);
    const bumps = Object.values(first.rooms).map((r) => r.bump_stamp!);
    assert.ok(entry.bump_stamp! > Math.max(...bumps), 'the room now sorts first');
    // Retrying a position whose response was lost gives that response's rooms again.
    const retry = await slidingSync(u, body, { pos: first.pos });
    assert.deepEqual(Object.keys(retry.rooms), [oldest]);
    // Nothing new: an empty incremental response.
    const idle = await slidingSync(u, body, { pos: next.pos });
    assert.deepEqual(idle.rooms, {});
    assert.notEqual(idle.pos, next.pos);
    // A room the user leaves is sent once more, its timeline ending with the leave.
    await ok(client(u, 'POST', `/rooms/${enc(oldest)}/leave`, {}), 'leaveRoom');
    const left = await slidingSync(u, body, { pos: idle.pos });
    const leave = left.rooms[oldest]!.timeline!.at(-1)!;
    assert.equal(leave['type'], 'm.room.member');
    assert.equal((leave['content'] as Json)['membership'], 'leave');
    const after = await slidingSync(u, body, { pos: left.pos });
    assert.deepEqual(after.lists, { all: { count: 3 } });
    assert.deepEqual(after.rooms, {});
  });

  test('MSC4186 § required_state: exact keys, wildcards, $ME and $LAZY members, incremental lazy members', async () => {
    const room = await createRoom(alice, { name: 'State room', topic: 'a topic' });
    await join(bob, room);
    await join(carol, room);
    await send(carol, room, 'carol speaks');
    await send(bob, room, 'bob speaks last');
    const sub = (requiredState: string[][], timelineLimit = 1) => ({ room_subscriptions: { [room]: { required_state: requiredState, timeline_limit: timelineLimit } } });
    const keys = (r: SsRoom) => r.required_state!.map((e) => `${e['type']}|${e['state_key']}`).sort();

    const lazy = await slidingSync(alice, sub([['m.room.name', ''], ['m.room.member', '$LAZY']]));
    assert.deepEqual(keys(lazy.rooms[room]!), ['m.room.member|' + bob.userId, 'm.room.name|'].sort());
    assert.equal(lazy.rooms[room]!.name, 'State room');

    const me = await slidingSync(alice, sub([['m.room.member', '$ME']]));
    assert.deepEqual(keys(me.rooms[room]!), ['m.room.member|' + alice.userId]);

    const members = await slidingSync(alice, sub([['m.room.member', '*']]));
    assert.deepEqual(keys(members.rooms[room]!), [alice.userId, bob.userId, carol.userId].map((u) => `m.room.member|${u}`).sort());

    const all = await slidingSync(alice, sub([['*', '*']]));
    const allKeys = keys(all.rooms[room]!);
    for (const key of ['m.room.create|', 'm.room.topic|', 'm.room.name|', 'm.room.power_levels|', 'm.room.join_rules|']) assert.ok(allKeys.includes(key), key);

    const none = await slidingSync(alice, sub([]));
    assert.deepEqual(none.rooms[room]!.required_state, []);

    // Incremental $LAZY: a sender new to the connection brings their member event, once.
    const conn = { conn_id: 'lazy', ...sub([['m.room.member', '$LAZY']], 1) };
    const start = await slidingSync(alice, conn);
    assert.deepEqual(keys(start.rooms[room]!), [`m.room.member|${bob.userId}`]);
    await send(carol, room, 'carol again');
    const step = await slidingSync(alice, conn, { pos: start.pos });
    assert.deepEqual(keys(step.rooms[room]!), [`m.room.member|${carol.userId}`]);
    await send(carol, room, 'carol once more');
    const again = await slidingSync(alice, conn, { pos: step.pos });
    assert.deepEqual(again.rooms[room]!.required_state, []);
    assert.equal(again.rooms[room]!.timeline!.length, 1);

    // A state change the client asked for arrives in required_state.
    const watch = { conn_id: 'watch', ...sub([['m.room.topic', '']], 1) };
    const w1 = await slidingSync(alice, watch);
    assert.deepEqual(keys(w1.rooms[room]!), ['m.room.topic|']);
    await ok(client(alice, 'PUT', `/rooms/${enc(room)}/state/m.room.topic/`, { topic: 'new topic' }), 'setRoomStateWithKey');
    const w2 = await slidingSync(alice, watch, { pos: w1.pos });
    assert.deepEqual(keys(w2.rooms[room]!), ['m.room.topic|']);
    assert.equal((w2.rooms[room]!.required_state![0]!['content'] as Json)['topic'], 'new topic');
    // Widening required_state sends what is newly asked for, even with no new events.
    const wide = { conn_id: 'watch', ...sub([['m.room.topic', ''], ['m.room.name', '']], 1) };
    const w3 = await slidingSync(alice, wide, { pos: w2.pos });
    assert.deepEqual(keys(w3.rooms[room]!), ['m.room.name|']);
  });

  test('MSC4186 § room_subscriptions: a room outside every range is sent with its own timeline_limit; rooms not the user\'s are ignored', async () => {
    const u = await newUser();
    const quiet = await createRoom(u, { name: 'quiet' });
    for (let i = 0; i < 3; i++) await send(u, quiet, `m${i}`);
    const busy = await createRoom(u, { name: 'busy' });
    await send(u, busy, 'newest');
    const foreign = await createRoom(alice);
    const res = await slidingSync(u, {
      lists: { top: list([[0, 0]]) },
      room_subscriptions: { [quiet]: { required_state: [['m.room.name', '']], timeline_limit: 2 }, [foreign]: { timeline_limit: 1 } },
    });
    assert.deepEqual(Object.keys(res.rooms).sort(), [busy, quiet].sort());
    assert.equal(res.rooms[quiet]!.timeline!.length, 2);
    assert.equal(res.rooms[quiet]!.limited, true);
    assert.equal(res.rooms[busy]!.timeline!.length, 1);
    assert.equal(res.rooms[quiet]!.name, 'quiet');
  });

  test('MSC4186 § timeline_limit: limited and a prev_batch that paginates with /messages', async () => {
    const u = await newUser();
    const room = await createRoom(u);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await send(u, room, `msg ${i}`));
    const body = { conn_id: 'tl', room_subscriptions: { [room]: { required_state: [], timeline_limit: 3 } } };
    const res = await slidingSync(u, body);
    const entry = res.rooms[room]!;
    assert.deepEqual(entry.timeline!.map((e) => e['event_id']), ids.slice(2));
    assert.equal(entry.limited, true);
    assert.equal(entry.num_live, 0);
    const older = await ok(client(u, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=2&from=${enc(entry.prev_batch!)}`), 'getRoomEvents');
    assert.deepEqual((older['chunk'] as Json[]).map((e) => e['event_id']), [ids[1], ids[0]]);
    // Incremental: four new events with a limit of two.
    const more: string[] = [];
    for (let i = 0; i < 4; i++) more.push(await send(u, room, `more ${i}`));
    const next = await slidingSync(u, { ...body, room_subscriptions: { [room]: { required_state: [], timeline_limit: 2 } } }, { pos: res.pos });
    assert.deepEqual(next.rooms[room]!.timeline!.map((e) => e['event_id']), more.slice(2));
    assert.equal(next.rooms[room]!.limited, true);
    assert.equal(next.rooms[room]!.num_live, 2);
  });

  test('MSC4186 § rooms: invites appear with invite_state and match the is_invite filter', async () => {
    const u = await newUser();
    await createRoom(u);
    const room = await createRoom(alice, { preset: 'private_chat', name: 'Invitation' });
    const body = { lists: { invites: list([[0, 9]], { filters: { is_invite: true } }), joined: list([[0, 9]], { filters: { is_invite: false } }) } };
    const before = await slidingSync(u, body);
    assert.deepEqual(before.lists, { invites: { count: 0 }, joined: { count: 1 } });
    await ok(client(alice, 'POST', `/rooms/${enc(room)}/invite`, { user_id: u.userId }), 'inviteUser');
    const res = await slidingSync(u, body, { pos: before.pos });
    assert.deepEqual(res.lists, { invites: { count: 1 }, joined: { count: 1 } });
    const entry = res.rooms[room]!;
    assert.equal(entry.initial, true);
    assert.equal(entry.timeline, undefined);
    const types = entry.invite_state!.map((e) => `${e['type']}|${e['state_key']}`);
    assert.ok(types.includes('m.room.name|'));
    assert.ok(types.includes('m.room.create|'));
    const own = entry.invite_state!.find((e) => e['type'] === 'm.room.member' && e['state_key'] === u.userId);
    assert.equal((own?.['content'] as Json)['membership'], 'invite');
    // Joining turns it into a joined room, sent anew with its timeline.
    await join(u, room);
    const joined = await slidingSync(u, body, { pos: res.pos });
    assert.deepEqual(joined.lists, { invites: { count: 0 }, joined: { count: 2 } });
    assert.equal(joined.rooms[room]!.initial, true);
    assert.ok(joined.rooms[room]!.timeline!.length > 0);
  });

  test('MSC4186 § filters: is_dm (m.direct), is_encrypted and room_types', async () => {
    const u = await newUser();
    const dm = await createRoom(u);
    const encrypted = await createRoom(u, { initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }] });
    const space = await createRoom(u, { creation_content: { type: 'm.space' } });
    await ok(client(u, 'PUT', `/user/${enc(u.userId)}/account_data/m.direct`, { [alice.userId]: [dm] }), 'setAccountData');
    const res = await slidingSync(u, {
      lists: {
        dms: list([[0, 9]], { filters: { is_dm: true } }),
        enc: list([[0, 9]], { filters: { is_encrypted: true } }),
        spaces: list([[0, 9]], { filters: { room_types: ['m.space'] } }),
        rooms: list([[0, 9]], { filters: { room_types: [null] } }),
      },
    });
    assert.deepEqual(res.lists, { dms: { count: 1 }, enc: { count: 1 }, spaces: { count: 1 }, rooms: { count: 2 } });
    assert.equal(res.rooms[dm]!.is_dm, true);
    assert.ok(res.rooms[encrypted] !== undefined && res.rooms[space] !== undefined);
  });

  test('MSC4186 § extensions: to_device delivers a message until acknowledged; e2ee gives one-time-key counts', async () => {
    const u = await newUser();
    const key = ed25519KeyPairFromSeed(generateEd25519Seed());
    await ok(client(u, 'POST', '/keys/upload', {
      device_keys: deviceKeys(u, key),
      one_time_keys: Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`signed_curve25519:K${i}`, sign({ key: `k${i}` }, u.userId, `ed25519:${u.deviceId}`, key)])),
    }), 'uploadKeys');
    const body = { extensions: { to_device: { enabled: true }, e2ee: { enabled: true } } };
    const first = await slidingSync(u, body);
    const e2ee = first.extensions['e2ee'] as Json;
    assert.deepEqual(e2ee['device_one_time_keys_count'], { signed_curve25519: 3 });
    assert.ok(Array.isArray(e2ee['device_unused_fallback_key_types']));
    const toDevice = first.extensions['to_device'] as { next_batch: string; events: Json[] };
    assert.equal(typeof toDevice.next_batch, 'string');
    assert.deepEqual(toDevice.events, []);

    await ok(client(bob, 'PUT', `/sendToDevice/m.test/td${++txn}`, { messages: { [u.userId]: { [u.deviceId]: { hello: 'sliding' } } } }), 'sendToDevice');
    const withMessage = await slidingSync(u, { extensions: { ...body.extensions, to_device: { enabled: true, since: toDevice.next_batch } } }, { pos: first.pos, timeout: 10_000 });
    const delivered = withMessage.extensions['to_device'] as { next_batch: string; events: Json[] };
    assert.deepEqual(delivered.events.map((e) => [e['sender'], e['type'], e['content']]), [[bob.userId, 'm.test', { hello: 'sliding' }]]);
    // Not acknowledged yet: asking from the same `since` gives it again; from next_batch, no more.
    const repeat = await slidingSync(u, { extensions: { to_device: { enabled: true, since: toDevice.next_batch } } });
    assert.equal((repeat.extensions['to_device'] as { events: Json[] }).events.length, 1);
    const acked = await slidingSync(u, { extensions: { to_device: { enabled: true, since: delivered.next_batch } } });
    assert.deepEqual((acked.extensions['to_device'] as { events: Json[] }).events, []);
  });

  test('MSC4186 § extensions: account_data (global and per room), receipts and typing for rooms in range', async () => {
    const u = await newUser();
    const room = await createRoom(u);
    await join(bob, room);
    const eventId = await send(bob, room, 'read me');
    await ok(client(u, 'PUT', `/user/${enc(u.userId)}/account_data/org.example.global`, { a: 1 }), 'setAccountData');
    await ok(client(u, 'PUT', `/user/${enc(u.userId)}/rooms/${enc(room)}/account_data/org.example.room`, { b: 2 }), 'setAccountDataPerRoom');
    const body = {
      lists: { all: list([[0, 9]]) },
      extensions: { account_data: { enabled: true }, receipts: { enabled: true }, typing: { enabled: true } },
    };
    const first = await slidingSync(u, body);
    const accountData = first.extensions['account_data'] as { global: Json[]; rooms: Record<string, Json[]> };
    assert.deepEqual(accountData.global.find((e) => e['type'] === 'org.example.global')?.['content'], { a: 1 });
    assert.ok(accountData.global.some((e) => e['type'] === 'm.push_rules'));
    assert.deepEqual(accountData.rooms[room], [{ type: 'org.example.room', content: { b: 2 } }]);

    await ok(client(bob, 'POST', `/rooms/${enc(room)}/receipt/m.read/${enc(eventId)}`, {}), 'postReceipt');
    await ok(client(bob, 'PUT', `/rooms/${enc(room)}/typing/${enc(bob.userId)}`, { typing: true, timeout: 30_000 }), 'setTyping');
    await ok(client(u, 'PUT', `/user/${enc(u.userId)}/account_data/org.example.global`, { a: 2 }), 'setAccountData');
    const next = await slidingSync(u, body, { pos: first.pos });
    const receipts = (next.extensions['receipts'] as { rooms: Record<string, Json> }).rooms[room]!;
    assert.equal(receipts['type'], 'm.receipt');
    assert.ok(((receipts['content'] as Json)[eventId] as Json)['m.read'] !== undefined);
    const typing = (next.extensions['typing'] as { rooms: Record<string, Json> }).rooms[room]!;
    assert.deepEqual(typing, { type: 'm.typing', content: { user_ids: [bob.userId] } });
    // Only what changed: the one global entry, no room account data.
    assert.deepEqual(next.extensions['account_data'], { global: [{ type: 'org.example.global', content: { a: 2 } }] });
  });

  test('MSC4186 § rooms: notification_count follows the push rules and clears when the user\'s own read receipt moves', async () => {
    const u = await newUser();
    const room = await createRoom(u);
    await join(bob, room);
    const body = { lists: { all: list([[0, 9]]) } };
    const first = await slidingSync(u, body);
    await send(bob, room, 'one');
    const last = (await ok(client(bob, 'PUT', `/rooms/${enc(room)}/send/m.room.message/t${++txn}`, {
      msgtype: 'm.text',
      body: 'two, with a mention',
      'm.mentions': { user_ids: [u.userId] },
    }), 'sendMessage'))['event_id'] as string;
    const unread = await slidingSync(u, body, { pos: first.pos });
    assert.equal(unread.rooms[room]!.notification_count, 2);
    assert.equal(unread.rooms[room]!.highlight_count, 1);
    await ok(client(u, 'POST', `/rooms/${enc(room)}/receipt/m.read/${enc(last)}`, {}), 'postReceipt');
    const read = await slidingSync(u, body, { pos: unread.pos });
    assert.deepEqual(Object.keys(read.rooms), [room]);
    assert.equal(read.rooms[room]!.notification_count, 0);
    assert.equal(read.rooms[room]!.highlight_count, 0);
    assert.equal(read.rooms[room]!.timeline, undefined);
  });

  test('MSC4186 § timeout: a long-poll wakes on a new event; an idle one returns empty at its timeout', async () => {
    const u = await newUser();
    const room = await createRoom(u);
    const body = { lists: { all: list([[0, 9]]) } };
    const first = await slidingSync(u, body);
    const idle = await slidingSync(u, body, { pos: first.pos, timeout: 200 });
    assert.deepEqual(idle.rooms, {});
    const polling = slidingSync(u, body, { pos: idle.pos, timeout: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const eventId = await send(u, room, 'wake up');
    const woken = await polling;
    assert.deepEqual(woken.rooms[room]!.timeline!.map((e) => e['event_id']), [eventId]);
    // Element X's encryption connection: no lists, only to-device; a message wakes it.
    const e2eeBody = { conn_id: 'encryption', extensions: { to_device: { enabled: true }, e2ee: { enabled: true } } };
    const e1 = await slidingSync(u, e2eeBody);
    const since = (e1.extensions['to_device'] as { next_batch: string }).next_batch;
    const waiting = slidingSync(u, { ...e2eeBody, extensions: { ...e2eeBody.extensions, to_device: { enabled: true, since } } }, { pos: e1.pos, timeout: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await ok(client(bob, 'PUT', `/sendToDevice/m.test/td${++txn}`, { messages: { [u.userId]: { [u.deviceId]: { wake: true } } } }), 'sendToDevice');
    const got = await waiting;
    assert.deepEqual((got.extensions['to_device'] as { events: Json[] }).events.map((e) => e['content']), [{ wake: true }]);
  });

  test('MSC4186 § room_subscriptions: a larger timeline_limit for a room already sent resends its history (unstable_expanded_timeline)', async () => {
    const u = await newUser();
    const room = await createRoom(u);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await send(u, room, `history ${i}`));
    const listOnly = { lists: { all: list([[0, 9]]) } };
    const first = await slidingSync(u, listOnly);
    assert.deepEqual(first.rooms[room]!.timeline!.map((e) => e['event_id']), ids.slice(3));
    const opened = await slidingSync(u, { ...listOnly, room_subscriptions: { [room]: { required_state: [], timeline_limit: 3 } } }, { pos: first.pos });
    const entry = opened.rooms[room] as SsRoom & { unstable_expanded_timeline?: boolean };
    assert.equal(entry.unstable_expanded_timeline, true);
    assert.equal(entry.initial, undefined);
    assert.deepEqual(entry.timeline!.map((e) => e['event_id']), ids.slice(1));
    assert.equal(entry.num_live, 0);
    // Kept open with no news: nothing more.
    const again = await slidingSync(u, { ...listOnly, room_subscriptions: { [room]: { required_state: [], timeline_limit: 3 } } }, { pos: opened.pos });
    assert.deepEqual(again.rooms, {});
  });

  test('MSC4186 § filters: spaces (children of a joined space) and tags (m.tag)', async () => {
    const u = await newUser();
    const space = await createRoom(u, { creation_content: { type: 'm.space' } });
    const child = await createRoom(u);
    const other = await createRoom(u);
    await ok(client(u, 'PUT', `/rooms/${enc(space)}/state/m.space.child/${enc(child)}`, { via: ['example.org'] }), 'setRoomStateWithKey');
    await ok(client(u, 'PUT', `/user/${enc(u.userId)}/rooms/${enc(other)}/tags/m.favourite`, {}), 'setRoomTag');
    const res = await slidingSync(u, {
      lists: {
        inSpace: list([[0, 9]], { filters: { spaces: [space] } }),
        favourites: list([[0, 9]], { filters: { tags: ['m.favourite'] } }),
        notFavourites: list([[0, 9]], { filters: { not_tags: ['m.favourite'] } }),
        notSpaces: list([[0, 9]], { filters: { not_room_types: ['m.space'] } }),
      },
    });
    assert.deepEqual(res.lists, { inSpace: { count: 1 }, favourites: { count: 1 }, notFavourites: { count: 2 }, notSpaces: { count: 2 } });
    assert.ok(res.rooms[child] !== undefined && res.rooms[other] !== undefined);
  });

  test('MSC4186 § pos: an unknown or superseded position is 400 M_UNKNOWN_POS; a bad body is 400 M_BAD_JSON', async () => {
    const u = await newUser();
    expectMatrixError(await rawSlidingSync(u, {}, { pos: 'nonsense' }), 400, 'M_UNKNOWN_POS');
    const first = await slidingSync(u, { conn_id: 'c' });
    const second = await slidingSync(u, { conn_id: 'c' }, { pos: first.pos });
    await slidingSync(u, { conn_id: 'c' }, { pos: second.pos });
    // Using `second` acknowledged it: `first` is gone.
    expectMatrixError(await rawSlidingSync(u, { conn_id: 'c' }, { pos: first.pos }), 400, 'M_UNKNOWN_POS');
    // A position belongs to its connection and its user.
    expectMatrixError(await rawSlidingSync(u, { conn_id: 'other' }, { pos: second.pos }), 400, 'M_UNKNOWN_POS');
    expectMatrixError(await rawSlidingSync(bob, { conn_id: 'c' }, { pos: second.pos }), 400, 'M_UNKNOWN_POS');
    // A new connection (no pos) restarts it: older positions are unknown.
    await slidingSync(u, { conn_id: 'c' });
    expectMatrixError(await rawSlidingSync(u, { conn_id: 'c' }, { pos: second.pos }), 400, 'M_UNKNOWN_POS');
    expectMatrixError(await rawSlidingSync(u, { lists: { a: { ranges: [[5, 1]] } } }), 400, 'M_BAD_JSON');
    expectMatrixError(await rawSlidingSync(u, { lists: { a: { required_state: [['only-type']] } } }), 400, 'M_BAD_JSON');
    expectMatrixError(await rawSlidingSync(u, { room_subscriptions: { '!r:x': { timeline_limit: -1 } } }), 400, 'M_BAD_JSON');
    expectMatrixError(await rawSlidingSync(u, {}, { timeout: -5 as number }), 400, 'M_INVALID_PARAM');
  });

  test('sliding sync lists stay correct while rooms receive messages (issue 9 acceptance)', async () => {
    const u = await newUser();
    const rooms: string[] = [];
    for (let i = 0; i < 10; i++) {
      const room = await createRoom(u, { name: `r${i}` });
      await join(bob, room);
      rooms.push(room);
    }
    // The true recency: most recent first, updated as messages are sent.
    let truth = [...rooms].reverse();
    // Bob's joins are not bump events: creation order decides the start.
    const body = { lists: { top: list([[0, 4]], { timeline_limit: 3 }) } };
    const first = await slidingSync(u, body);
    assert.deepEqual(first.lists, { top: { count: 10 } });
    assert.deepEqual(sortedByBump(first.rooms), truth.slice(0, 5));
    // The client's view: bump stamps of the rooms it was sent, as a client keeps them.
    const bumps = new Map(Object.entries(first.rooms).map(([id, r]) => [id, r.bump_stamp!]));
    let pos = first.pos;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 12; round++) {
      const sent = new Map<string, string>();
      const burst = 1 + Math.floor(random() * 3);
      for (let k = 0; k < burst; k++) {
        const room = rooms[Math.floor(random() * rooms.length)]!;
        const sender = random() < 0.5 ? u : bob;
        sent.set(room, await send(sender, room, `round ${round} message ${k}`));
        truth = [room, ...truth.filter((r) => r !== room)];
      }
      const res = await slidingSync(u, body, { pos });
      pos = res.pos;
      assert.deepEqual(res.lists, { top: { count: 10 } });
      // Every room with a new message that is now in range is in the response with that message last.
      const window = truth.slice(0, 5);
      for (const [room, eventId] of sent) {
        if (!window.includes(room)) continue;
        const entry = res.rooms[room];
        assert.ok(entry !== undefined, `round ${round}: ${room} in the response`);
        assert.equal(entry.timeline!.at(-1)!['event_id'], eventId);
      }
      // Only rooms in range, and only rooms the client had no up-to-date copy of.
      for (const room of Object.keys(res.rooms)) assert.ok(window.includes(room), `round ${round}: ${room} is in range`);
      for (const [room, entry] of Object.entries(res.rooms)) bumps.set(room, entry.bump_stamp!);
      const clientOrder = window.slice().sort((a, b) => bumps.get(b)! - bumps.get(a)!);
      assert.deepEqual(clientOrder, window, `round ${round}: the client's order matches the true recency`);
      // A fresh connection sees the same window.
      if (round % 4 === 3) {
        const fresh = await slidingSync(u, { ...body, conn_id: `fresh${round}` });
        assert.deepEqual(sortedByBump(fresh.rooms), window);
      }
    }
  });
});

function sign(obj: Json, userId: string, keyId: string, key: Ed25519KeyPair): Json {
  const signature = encodeBase64(key.sign(signableBytes(obj as never)));
  const signatures = (obj['signatures'] ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...signatures, [userId]: { ...(signatures[userId] ?? {}), [keyId]: signature } } };
}
function deviceKeys(user: RegisteredUser, key: Ed25519KeyPair): Json {
  return sign(
    {
      user_id: user.userId,
      device_id: user.deviceId,
      algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
      keys: { [`curve25519:${user.deviceId}`]: encodeBase64(generateEd25519Seed()), [`ed25519:${user.deviceId}`]: encodeBase64(key.publicKey) },
    },
    user.userId,
    `ed25519:${user.deviceId}`,
    key,
  );
}
