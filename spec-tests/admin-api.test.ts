// The admin API on a real node (issue 8 item 5 and 6): Synapse's admin API paths and shapes
// (element-hq/synapse docs/admin_api/: user_admin_api.md, rooms.md, media_admin_api.md,
// event_reports.md, registration_tokens.md, server_notices.md, version_api.md), the
// server-admin and read-only compliance roles, and the hash-chained audit log every change
// (and every compliance read) is appended to. Synapse's admin API has no OpenAPI in the
// Matrix spec, so shapes are checked field by field against those documents; errors are
// checked with the spec's standard error response (client-server § "Standard error
// response"), and the client-API calls made along the way against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { runStoaCommand, startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;
type FieldType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

let node: TestNode;
let admin: RegisteredUser;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let auditor: RegisteredUser;
const enc = encodeURIComponent;
const { call, client, createRoom, send } = clientCalls(() => node.clientUrl);

function url(path: string): string {
  return `${node.clientUrl}${path}`;
}
/** Asserts each field's JSON type (a list: any of them). */
function expectShape(value: unknown, shape: Readonly<Record<string, FieldType | readonly FieldType[]>>, where = 'body'): asserts value is Json {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${where} is an object`);
  for (const [key, types] of Object.entries(shape)) {
    const field = (value as Json)[key];
    const actual: FieldType = field === null ? 'null' : Array.isArray(field) ? 'array' : (typeof field as FieldType);
    const allowed: readonly FieldType[] = typeof types === 'string' ? [types] : types;
    assert.ok(allowed.includes(actual), `${where}.${key}: expected ${allowed.join('|')}, got ${actual} (${JSON.stringify(field)})`);
  }
}
async function login(userId: string, password: string): Promise<HttpResponse> {
  return request(url('/_matrix/client/v3/login'), {
    method: 'POST',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password },
  });
}
async function auditEntries(): Promise<Json[]> {
  const entries: Json[] = [];
  for (let from = '0'; ; ) {
    const page = await ok(call(admin, 'GET', `/_stoa/admin/v1/audit_log?from=${from}&limit=50`));
    entries.push(...(page['entries'] as Json[]));
    if (typeof page['next_token'] !== 'string') return entries;
    from = page['next_token'];
  }
}

const USER_LIST_ENTRY = {
  name: 'string',
  user_type: 'null',
  is_guest: 'boolean',
  admin: 'boolean',
  deactivated: 'boolean',
  erased: 'boolean',
  shadow_banned: 'boolean',
  displayname: ['string', 'null'],
  avatar_url: ['string', 'null'],
  creation_ts: 'number',
  approved: 'boolean',
  locked: 'boolean',
  last_seen_ts: ['number', 'null'],
} as const;
const USER_DETAILS = {
  ...USER_LIST_ENTRY,
  threepids: 'array',
  external_ids: 'array',
  appservice_id: 'null',
  consent_server_notice_sent: 'null',
  consent_version: 'null',
  consent_ts: 'null',
} as const;
const ROOM_LIST_ENTRY = {
  room_id: 'string',
  name: ['string', 'null'],
  canonical_alias: ['string', 'null'],
  joined_members: 'number',
  joined_local_members: 'number',
  version: 'string',
  creator: 'string',
  encryption: ['string', 'null'],
  federatable: 'boolean',
  public: 'boolean',
  join_rules: ['string', 'null'],
  guest_access: ['string', 'null'],
  history_visibility: ['string', 'null'],
  state_events: 'number',
  room_type: ['string', 'null'],
} as const;
const REGISTRATION_TOKEN = { token: 'string', uses_allowed: ['number', 'null'], pending: 'number', completed: 'number', expiry_time: ['number', 'null'] } as const;

before(async () => {
  // PostgreSQL when STOA_TEST_POSTGRES_URL is set, else PGlite.
  [node] = (await startNodes(1, testPostgresUrl() === undefined ? {} : { engine: 'postgres' })) as [TestNode];
  admin = await registerUser(node, 'admin', { admin: true });
  alice = await registerUser(node, 'alice');
  const named = await call(alice, 'PUT', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, { displayname: 'Alice Liddell' });
  expectSpecResponse(named, 'setProfileField');
  bob = await registerUser(node, 'bob');
  carol = await registerUser(node, 'carol');
  auditor = await registerUser(node, 'auditor');
});
after(() => stopNodes([node]));

describe('admin API: version and access', () => {
  test('version_api.md § GET /_synapse/admin/v1/server_version: {server_version}', async () => {
    const body = await ok(call(undefined, 'GET', '/_synapse/admin/v1/server_version'));
    expectShape(body, { server_version: 'string' });
    assert.match(body['server_version'] as string, /^Stoa /);
  });

  test('admin_api § authentication: a non-admin gets 403 M_FORBIDDEN, no token 401 M_MISSING_TOKEN', async () => {
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/_synapse/admin/v2/users'],
      ['GET', `/_synapse/admin/v2/users/${enc(bob.userId)}`],
      ['PUT', `/_synapse/admin/v2/users/${enc(bob.userId)}`, { admin: true }],
      ['POST', `/_synapse/admin/v1/deactivate/${enc(bob.userId)}`, {}],
      ['GET', '/_synapse/admin/v1/rooms'],
      ['GET', '/_synapse/admin/v1/registration_tokens'],
      ['POST', '/_synapse/admin/v1/registration_tokens/new', {}],
      ['POST', '/_synapse/admin/v1/send_server_notice', { user_id: bob.userId, content: { msgtype: 'm.text', body: 'x' } }],
      ['GET', '/_stoa/admin/v1/audit_log'],
      ['PUT', `/_stoa/admin/v1/users/${enc(alice.userId)}/roles/compliance`],
    ];
    for (const [method, path, body] of cases) {
      expectMatrixError(await call(alice, method, path, body), 403, 'M_FORBIDDEN');
    }
    expectMatrixError(await call(undefined, 'GET', '/_synapse/admin/v2/users'), 401, 'M_MISSING_TOKEN');
    const bobUser = await ok(call(admin, 'GET', `/_synapse/admin/v2/users/${enc(bob.userId)}`));
    assert.equal(bobUser['admin'], false, 'the refused PUT changed nothing');
  });
});

describe('admin API: users (user_admin_api.md)', () => {
  test('user_admin_api.md § List Accounts (v2): shape, filters, order_by, paging', async () => {
    const all = await ok(call(admin, 'GET', '/_synapse/admin/v2/users?limit=100'));
    expectShape(all, { users: 'array', total: 'number' });
    const users = all['users'] as Json[];
    for (const user of users) expectShape(user, USER_LIST_ENTRY, 'users[]');
    const names = users.map((u) => u['name']);
    for (const u of [admin, alice, bob, carol]) assert.ok(names.includes(u.userId), u.userId);
    assert.deepEqual(names, [...names].sort(), 'ordered by name by default');
    assert.equal(all['next_token'], undefined, 'no next_token on the last page');

    const byName = await ok(call(admin, 'GET', '/_synapse/admin/v2/users?name=liddell'));
    assert.deepEqual((byName['users'] as Json[]).map((u) => u['name']), [alice.userId], 'name matches the display name');
    assert.equal((byName['users'] as Json[])[0]?.['displayname'], 'Alice Liddell');

    const admins = await ok(call(admin, 'GET', '/_synapse/admin/v2/users?admins=true'));
    assert.deepEqual((admins['users'] as Json[]).map((u) => u['name']), [admin.userId]);

    const page1 = await ok(call(admin, 'GET', '/_synapse/admin/v2/users?limit=2&order_by=creation_ts&dir=b'));
    assert.equal((page1['users'] as Json[]).length, 2);
    assert.equal(page1['next_token'], '2');
    assert.equal(page1['total'], all['total']);
    const newest = (page1['users'] as Json[])[0]!;
    assert.equal(newest['name'], names.includes(auditor.userId) ? auditor.userId : newest['name'], 'newest first with dir=b');
    const page2 = await ok(call(admin, 'GET', `/_synapse/admin/v2/users?limit=2&order_by=creation_ts&dir=b&from=${page1['next_token'] as string}`));
    assert.equal((page2['users'] as Json[]).length, 2);
    assert.notEqual((page2['users'] as Json[])[0]?.['name'], newest['name']);

    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v2/users?order_by=password'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v2/users?limit=-1'), 400, 'M_INVALID_PARAM');
  });

  test('user_admin_api.md § Query User Account: shape; unknown 404; remote user 400', async () => {
    const body = await ok(call(admin, 'GET', `/_synapse/admin/v2/users/${enc(alice.userId)}`));
    expectShape(body, USER_DETAILS);
    assert.equal(body['name'], alice.userId);
    assert.equal(body['displayname'], 'Alice Liddell');
    assert.ok((body['creation_ts'] as number) < 1e11, 'creation_ts in seconds, as Synapse gives it here');
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v2/users/${enc(`@nobody:${node.serverName}`)}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v2/users/${enc('@someone:elsewhere.example')}`), 400, 'M_INVALID_PARAM');
  });

  test('user_admin_api.md § Create or modify account: 201 creates (login works), 200 modifies', async () => {
    const userId = `@dave:${node.serverName}`;
    const created = await ok(call(admin, 'PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { password: 'dave-pw-1', displayname: 'Dave', admin: false }), 201);
    expectShape(created, USER_DETAILS);
    assert.equal(created['displayname'], 'Dave');
    const session = await login(userId, 'dave-pw-1');
    expectSpecResponse(session, 'login');

    const modified = await ok(call(admin, 'PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { displayname: 'David', admin: true }));
    assert.equal(modified['displayname'], 'David');
    assert.equal(modified['admin'], true);
    const profile = await request(url(`/_matrix/client/v3/profile/${enc(userId)}`));
    expectSpecResponse(profile, 'getUserProfile');
    assert.equal((profile.body as Json)['displayname'], 'David', 'the display name went through the profile service');

    expectMatrixError(await call(admin, 'PUT', `/_synapse/admin/v2/users/${enc(admin.userId)}`, { admin: false }), 400, 'M_UNKNOWN');
    expectMatrixError(await call(admin, 'PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { admin: 'yes' }), 400, 'M_BAD_JSON');
    expectMatrixError(await call(admin, 'PUT', `/_synapse/admin/v2/users/${enc('@x:elsewhere.example')}`, {}), 400, 'M_INVALID_PARAM');
  });

  test('user_admin_api.md § Reset password: the new password works, the old does not, devices are logged out', async () => {
    const erin = await registerUser(node, 'erin');
    assert.deepEqual(await ok(call(admin, 'POST', `/_synapse/admin/v1/reset_password/${enc(erin.userId)}`, { new_password: 'erin-new' })), {});
    expectMatrixError(await login(erin.userId, erin.password), 403, 'M_FORBIDDEN');
    expectSpecResponse(await login(erin.userId, 'erin-new'), 'login');
    expectMatrixError(await client(erin, 'GET', '/account/whoami'), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await call(admin, 'POST', `/_synapse/admin/v1/reset_password/${enc(erin.userId)}`, {}), 400, 'M_BAD_JSON');
  });

  test('user_admin_api.md § Query current sessions (whois) and § Login as a user', async () => {
    await client(bob, 'GET', '/account/whoami');
    const whois = await ok(call(admin, 'GET', `/_synapse/admin/v1/whois/${enc(bob.userId)}`));
    expectShape(whois, { user_id: 'string', devices: 'object' });
    const device = (whois['devices'] as Record<string, Json>)[bob.deviceId];
    assert.ok(device, 'bob\'s device is listed');
    expectShape(device, { sessions: 'array' });

    const loginAs = await ok(call(admin, 'POST', `/_synapse/admin/v1/users/${enc(bob.userId)}/login`, {}));
    expectShape(loginAs, { access_token: 'string' });
    const whoami = await request(url('/_matrix/client/v3/account/whoami'), { headers: { Authorization: `Bearer ${loginAs['access_token'] as string}` } });
    expectSpecResponse(whoami, 'getTokenOwner');
    assert.equal((whoami.body as Json)['user_id'], bob.userId);
    expectMatrixError(await call(admin, 'POST', `/_synapse/admin/v1/users/${enc(admin.userId)}/login`, {}), 400, 'M_UNKNOWN');
  });

  test('user_admin_api.md § Deactivate Account with erase: no login, rooms left, profile erased', async () => {
    const frank = await registerUser(node, 'frank');
    expectSpecResponse(await client(frank, 'PUT', `/profile/${enc(frank.userId)}/displayname`, { displayname: 'Frank' }), 'setProfileField');
    const room = await createRoom(alice, { preset: 'public_chat' });
    expectSpecResponse(await client(frank, 'POST', `/rooms/${enc(room)}/join`, {}), 'joinRoomById');
    const body = await ok(call(admin, 'POST', `/_synapse/admin/v1/deactivate/${enc(frank.userId)}`, { erase: true }));
    assert.deepEqual(body, { id_server_unbind_result: 'success' });
    const details = await ok(call(admin, 'GET', `/_synapse/admin/v2/users/${enc(frank.userId)}`));
    assert.equal(details['deactivated'], true);
    assert.equal(details['erased'], true);
    assert.equal(details['displayname'], null);
    expectMatrixError(await client(frank, 'GET', '/account/whoami'), 401, 'M_UNKNOWN_TOKEN');
    const members = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/members`));
    assert.ok(!(members['members'] as string[]).includes(frank.userId));
    const listed = await ok(call(admin, 'GET', '/_synapse/admin/v2/users?deactivated=true&name=frank'));
    assert.deepEqual((listed['users'] as Json[]).map((u) => u['name']), [frank.userId]);
    const hidden = await ok(call(admin, 'GET', '/_synapse/admin/v2/users?name=frank'));
    assert.deepEqual(hidden['users'], [], 'deactivated accounts are left out by default');
  });
});

describe('admin API: shadow-ban (user_admin_api.md § Controlling whether a user is shadow-banned)', () => {
  test('a shadow-banned user is told sends succeed, but nothing reaches the room; lifting restores', async () => {
    const mallory = await registerUser(node, 'mallory');
    const room = await createRoom(alice, { preset: 'public_chat' });
    expectSpecResponse(await client(mallory, 'POST', `/rooms/${enc(room)}/join`, {}), 'joinRoomById');
    const path = `/_synapse/admin/v1/users/${enc(mallory.userId)}/shadow_ban`;
    expectMatrixError(await call(alice, 'POST', path), 403, 'M_FORBIDDEN');
    assert.deepEqual(await ok(call(admin, 'POST', path)), {});
    assert.equal((await ok(call(admin, 'GET', `/_synapse/admin/v2/users/${enc(mallory.userId)}`)))['shadow_banned'], true);

    const spam = await send(mallory, room, { msgtype: 'm.text', body: 'buy now' });
    assert.match(spam, /^\$/, 'a plausible event ID');
    const topic = await client(mallory, 'PUT', `/rooms/${enc(room)}/state/m.room.topic/`, { topic: 'spam' });
    expectSpecResponse(topic, 'setRoomStateWithKey');
    expectSpecResponse(await client(mallory, 'POST', `/rooms/${enc(room)}/invite`, { user_id: carol.userId }), 'inviteUser');
    const messages = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=50`);
    expectSpecResponse(messages, 'getRoomEvents');
    const chunk = (messages.body as Json)['chunk'] as Json[];
    assert.ok(!chunk.some((e) => e['sender'] === mallory.userId && e['type'] !== 'm.room.member'), 'nothing of mallory\'s reached the room');
    const carolState = await client(alice, 'GET', `/rooms/${enc(room)}/state/m.room.member/${enc(carol.userId)}`);
    expectMatrixError(carolState, 404, 'M_NOT_FOUND');

    assert.deepEqual(await ok(call(admin, 'DELETE', path)), {});
    assert.equal((await ok(call(admin, 'GET', `/_synapse/admin/v2/users/${enc(mallory.userId)}`)))['shadow_banned'], false);
    const real = await send(mallory, room, { msgtype: 'm.text', body: 'sorry' });
    const event = await client(alice, 'GET', `/rooms/${enc(room)}/event/${enc(real)}`);
    expectSpecResponse(event, 'getOneRoomEvent');
  });
});

describe('admin API: rooms (rooms.md)', () => {
  let room: string;
  before(async () => {
    room = await createRoom(alice, { preset: 'public_chat', name: 'Quarterly planning', room_alias_name: 'planning' });
    expectSpecResponse(await client(bob, 'POST', `/rooms/${enc(room)}/join`, {}), 'joinRoomById');
    for (let i = 0; i < 5; i++) await send(alice, room, { msgtype: 'm.text', body: `message ${i}` });
  });

  test('rooms.md § List Room API: shape, search_term, order_by, paging', async () => {
    const list = await ok(call(admin, 'GET', '/_synapse/admin/v1/rooms'));
    expectShape(list, { rooms: 'array', offset: 'number', total_rooms: 'number' });
    for (const entry of list['rooms'] as Json[]) expectShape(entry, ROOM_LIST_ENTRY, 'rooms[]');
    const found = await ok(call(admin, 'GET', '/_synapse/admin/v1/rooms?search_term=quarterly'));
    const entries = found['rooms'] as Json[];
    assert.equal(entries.length, 1);
    const entry = entries[0]!;
    assert.equal(entry['room_id'], room);
    assert.equal(entry['name'], 'Quarterly planning');
    assert.equal(entry['canonical_alias'], `#planning:${node.serverName}`);
    assert.equal(entry['joined_members'], 2);
    assert.equal(entry['joined_local_members'], 2);
    assert.equal(entry['join_rules'], 'public');
    assert.equal(entry['creator'], alice.userId);

    const bySize = await ok(call(admin, 'GET', '/_synapse/admin/v1/rooms?order_by=joined_members&dir=b&limit=1'));
    assert.equal((bySize['rooms'] as Json[]).length, 1);
    assert.equal(bySize['next_batch'], 1);
    const sizes = (list['rooms'] as Json[]).map((r) => r['joined_members'] as number);
    assert.equal((bySize['rooms'] as Json[])[0]?.['joined_members'], Math.max(...sizes));
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v1/rooms?order_by=nonsense'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v1/rooms?dir=up'), 400, 'M_INVALID_PARAM');
  });

  test('rooms.md § Room Details, Members, State APIs', async () => {
    const details = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}`));
    expectShape(details, { ...ROOM_LIST_ENTRY, topic: ['string', 'null'], avatar: ['string', 'null'], joined_local_devices: 'number', forgotten: 'boolean' });
    assert.equal(details['room_id'], room);
    const members = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/members`));
    expectShape(members, { members: 'array', total: 'number' });
    assert.deepEqual([...(members['members'] as string[])].sort(), [alice.userId, bob.userId].sort());
    assert.equal(members['total'], 2);
    const state = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/state`));
    expectShape(state, { state: 'array' });
    const types = (state['state'] as Json[]).map((e) => e['type']);
    for (const type of ['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.name']) assert.ok(types.includes(type), type);
    for (const event of state['state'] as Json[]) expectShape(event, { event_id: 'string', type: 'string', sender: 'string', content: 'object', state_key: 'string', origin_server_ts: 'number' }, 'state[]');
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc('!unknown:nowhere')}`), 404, 'M_NOT_FOUND');
  });

  test('rooms.md § Room Messages API: forwards and backwards pagination with tokens', async () => {
    const forward: Json[] = [];
    let from: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/messages?dir=f&limit=4${from === undefined ? '' : `&from=${from}`}`));
      expectShape(page, { chunk: 'array', start: 'string' });
      forward.push(...(page['chunk'] as Json[]));
      if (typeof page['end'] !== 'string') break;
      from = page['end'];
    }
    const bodies = forward.filter((e) => e['type'] === 'm.room.message').map((e) => (e['content'] as Json)['body']);
    assert.deepEqual(bodies, ['message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
    assert.equal(forward[0]?.['type'], 'm.room.create', 'forwards starts at the beginning');
    const back = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/messages?dir=b&limit=2`));
    assert.deepEqual((back['chunk'] as Json[]).map((e) => (e['content'] as Json)['body']), ['message 4', 'message 3']);
    const back2 = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/messages?dir=b&limit=2&from=${back['end'] as string}`));
    assert.deepEqual((back2['chunk'] as Json[]).map((e) => (e['content'] as Json)['body']), ['message 2', 'message 1']);
  });

  test('rooms.md § Make Room Admin API: the user gets the top power level and an invite', async () => {
    assert.deepEqual(await ok(call(admin, 'POST', `/_synapse/admin/v1/rooms/${enc(room)}/make_room_admin`, { user_id: carol.userId })), {});
    expectSpecResponse(await client(carol, 'POST', `/rooms/${enc(room)}/join`, {}), 'joinRoomById');
    const pl = await client(carol, 'GET', `/rooms/${enc(room)}/state/m.room.power_levels/`);
    expectSpecResponse(pl, 'getRoomStateWithKey');
    assert.equal(((pl.body as Json)['users'] as Json)[carol.userId], 100);
    // Carol can now do what only room admins may: change the room name.
    expectSpecResponse(await client(carol, 'PUT', `/rooms/${enc(room)}/state/m.room.name/`, { name: 'Renamed by carol' }), 'setRoomStateWithKey');
  });

  test('rooms.md § Block Room API: no joins or invites into a blocked room; leaving still works', async () => {
    const other = await createRoom(alice, { preset: 'public_chat' });
    expectSpecResponse(await client(bob, 'POST', `/rooms/${enc(other)}/join`, {}), 'joinRoomById');
    assert.deepEqual(await ok(call(admin, 'PUT', `/_synapse/admin/v1/rooms/${enc(other)}/block`, { block: true })), { block: true });
    expectMatrixError(await client(carol, 'POST', `/rooms/${enc(other)}/join`, {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await client(alice, 'POST', `/rooms/${enc(other)}/invite`, { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(carol, 'POST', `/_matrix/client/r0/join/${enc(other)}`, {}), 403, 'M_FORBIDDEN');
    expectSpecResponse(await client(bob, 'POST', `/rooms/${enc(other)}/leave`, {}), 'leaveRoom');
    expectMatrixError(await call(alice, 'PUT', `/_synapse/admin/v1/rooms/${enc(other)}/block`, { block: false }), 403, 'M_FORBIDDEN');
  });

  test('rooms.md § Block Room API and § Delete Room API (v2) with delete status', async () => {
    const block = await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/block`));
    assert.deepEqual(block, { block: false });
    const deleted = await ok(call(admin, 'DELETE', `/_synapse/admin/v2/rooms/${enc(room)}`, { block: true, purge: true }));
    expectShape(deleted, { delete_id: 'string' });
    const status = await ok(call(admin, 'GET', `/_synapse/admin/v2/rooms/${enc(room)}/delete_status`));
    expectShape(status, { results: 'array' });
    const result = (status['results'] as Json[])[0]!;
    expectShape(result, { delete_id: 'string', status: 'string', shutdown_room: 'object' });
    assert.equal(result['status'], 'complete');
    const shutdown = result['shutdown_room'] as Json;
    expectShape(shutdown, { kicked_users: 'array', failed_to_kick_users: 'array', local_aliases: 'array', new_room_id: 'null' });
    assert.deepEqual([...(shutdown['kicked_users'] as string[])].sort(), [alice.userId, bob.userId, carol.userId].sort());
    assert.deepEqual(shutdown['local_aliases'], [`#planning:${node.serverName}`]);
    const byId = await ok(call(admin, 'GET', `/_synapse/admin/v2/rooms/delete_status/${deleted['delete_id'] as string}`));
    assert.equal(byId['status'], 'complete');

    // Purged (the default): the room is gone, as in Synapse; its block stays.
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/members`), 404, 'M_NOT_FOUND');
    assert.deepEqual(await ok(call(admin, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/block`)), { block: true, user_id: admin.userId });
    const alias = await request(url(`/_matrix/client/v3/directory/room/${enc(`#planning:${node.serverName}`)}`));
    expectMatrixError(alias, 404, 'M_NOT_FOUND');
    expectMatrixError(await client(bob, 'POST', `/rooms/${enc(room)}/join`, {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await client(bob, 'POST', `/join/${enc(room)}`, {}), 403, 'M_FORBIDDEN');
    assert.deepEqual(await ok(call(admin, 'PUT', `/_synapse/admin/v1/rooms/${enc(room)}/block`, { block: false })), { block: false });
    // Unblocked, the join is no longer refused; but the purged room has no server left to join through.
    expectMatrixError(await client(bob, 'POST', `/rooms/${enc(room)}/join`, {}), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v2/rooms/delete_status/nope'), 404, 'M_NOT_FOUND');
  });
});

describe('admin API: registration tokens (registration_tokens.md)', () => {
  test('registration_tokens.md § create, list (valid), get, update, delete', async () => {
    const made = await ok(call(admin, 'POST', '/_synapse/admin/v1/registration_tokens/new', { uses_allowed: 1, length: 20 }));
    expectShape(made, REGISTRATION_TOKEN);
    assert.equal((made['token'] as string).length, 20);
    assert.equal(made['uses_allowed'], 1);
    const named = await ok(call(admin, 'POST', '/_synapse/admin/v1/registration_tokens/new', { token: 'welcome-2026', expiry_time: Date.now() + 86_400_000 }));
    assert.equal(named['token'], 'welcome-2026');
    expectMatrixError(await call(admin, 'POST', '/_synapse/admin/v1/registration_tokens/new', { token: 'welcome-2026' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(admin, 'POST', '/_synapse/admin/v1/registration_tokens/new', { token: 'bad token!' }), 400, 'M_BAD_JSON');
    expectMatrixError(await call(admin, 'POST', '/_synapse/admin/v1/registration_tokens/new', { expiry_time: 1 }), 400, 'M_INVALID_PARAM');

    const list = await ok(call(admin, 'GET', '/_synapse/admin/v1/registration_tokens'));
    expectShape(list, { registration_tokens: 'array' });
    for (const t of list['registration_tokens'] as Json[]) expectShape(t, REGISTRATION_TOKEN, 'registration_tokens[]');
    assert.ok((list['registration_tokens'] as Json[]).some((t) => t['token'] === 'welcome-2026'));

    const updated = await ok(call(admin, 'PUT', `/_synapse/admin/v1/registration_tokens/${made['token'] as string}`, { uses_allowed: 0 }));
    assert.equal(updated['uses_allowed'], 0);
    const valid = await ok(call(admin, 'GET', '/_synapse/admin/v1/registration_tokens?valid=true'));
    const validTokens = (valid['registration_tokens'] as Json[]).map((t) => t['token']);
    assert.ok(validTokens.includes('welcome-2026'));
    assert.ok(!validTokens.includes(made['token']), 'a token with no uses left is not valid');
    const invalid = await ok(call(admin, 'GET', '/_synapse/admin/v1/registration_tokens?valid=false'));
    assert.ok((invalid['registration_tokens'] as Json[]).some((t) => t['token'] === made['token']));

    const got = await ok(call(admin, 'GET', '/_synapse/admin/v1/registration_tokens/welcome-2026'));
    expectShape(got, REGISTRATION_TOKEN);
    assert.deepEqual(await ok(call(admin, 'DELETE', '/_synapse/admin/v1/registration_tokens/welcome-2026')), {});
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v1/registration_tokens/welcome-2026'), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'DELETE', '/_synapse/admin/v1/registration_tokens/welcome-2026'), 404, 'M_NOT_FOUND');
  });
});

describe('admin API: media (media_admin_api.md)', () => {
  test('media_admin_api.md § room media, user media, quarantine, delete', async () => {
    const upload = await request(url('/_matrix/media/v3/upload?filename=photo.png'), {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.accessToken}`, 'Content-Type': 'image/png' },
      body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]),
    });
    assert.equal(upload.status, 200, upload.text);
    const mxc = (upload.body as Json)['content_uri'] as string;
    const mediaId = mxc.split('/').at(-1)!;
    const room = await createRoom(alice, { preset: 'private_chat' });
    await send(alice, room, { msgtype: 'm.image', body: 'photo.png', url: mxc });

    const roomMedia = await ok(call(admin, 'GET', `/_synapse/admin/v1/room/${enc(room)}/media`));
    assert.deepEqual(roomMedia, { local: [mxc], remote: [] });

    const userMedia = await ok(call(admin, 'GET', `/_synapse/admin/v1/users/${enc(alice.userId)}/media`));
    expectShape(userMedia, { media: 'array', total: 'number' });
    const item = (userMedia['media'] as Json[]).find((m) => m['media_id'] === mediaId);
    assert.ok(item, 'the upload is listed');
    expectShape(item, {
      media_id: 'string',
      media_type: 'string',
      media_length: 'number',
      upload_name: ['string', 'null'],
      created_ts: 'number',
      last_access_ts: ['number', 'null'],
      quarantined_by: ['string', 'null'],
      safe_from_quarantine: 'boolean',
    });
    assert.equal(item['media_length'], 8);

    const download = `/_matrix/client/v1/media/download/${node.serverName}/${mediaId}`;
    assert.equal((await call(bob, 'GET', download)).status, 200);
    assert.deepEqual(await ok(call(admin, 'POST', `/_synapse/admin/v1/media/quarantine/${node.serverName}/${mediaId}`)), {});
    expectMatrixError(await call(bob, 'GET', download), 404, 'M_NOT_FOUND');
    const quarantined = await ok(call(admin, 'GET', `/_synapse/admin/v1/users/${enc(alice.userId)}/media`));
    assert.equal((quarantined['media'] as Json[]).find((m) => m['media_id'] === mediaId)?.['quarantined_by'], admin.userId);
    assert.deepEqual(await ok(call(admin, 'POST', `/_synapse/admin/v1/media/unquarantine/${node.serverName}/${mediaId}`)), {});
    assert.equal((await call(bob, 'GET', download)).status, 200);

    const deleted = await ok(call(admin, 'DELETE', `/_synapse/admin/v1/media/${node.serverName}/${mediaId}`));
    assert.deepEqual(deleted, { deleted_media: [mediaId], total: 1 });
    expectMatrixError(await call(bob, 'GET', download), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'DELETE', `/_synapse/admin/v1/media/${node.serverName}/${mediaId}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'DELETE', `/_synapse/admin/v1/media/elsewhere.example/${mediaId}`), 400, 'M_INVALID_PARAM');
  });
});

describe('admin API: event reports (event_reports.md)', () => {
  test('event_reports.md § list and show a report of an event', async (t) => {
    const room = await createRoom(alice, { preset: 'public_chat', name: 'Reported room' });
    expectSpecResponse(await client(bob, 'POST', `/rooms/${enc(room)}/join`, {}), 'joinRoomById');
    const eventId = await send(alice, room, { msgtype: 'm.text', body: 'offensive' });
    const report = await client(bob, 'POST', `/rooms/${enc(room)}/report/${enc(eventId)}`, { reason: 'spam', score: -100 });
    if (report.status === 404 && (report.body as Json | undefined)?.['errcode'] === 'M_UNRECOGNIZED') {
      t.skip('POST /rooms/{roomId}/report/{eventId} is not wired on this build');
      return;
    }
    expectSpecResponse(report, 'reportEvent');
    const list = await ok(call(admin, 'GET', `/_synapse/admin/v1/event_reports?room_id=${enc(room)}`));
    expectShape(list, { event_reports: 'array', total: 'number' });
    assert.equal(list['total'], 1);
    const entry = (list['event_reports'] as Json[])[0]!;
    expectShape(entry, {
      id: 'number',
      received_ts: 'number',
      room_id: 'string',
      name: ['string', 'null'],
      event_id: 'string',
      user_id: 'string',
      reason: ['string', 'null'],
      score: ['number', 'null'],
      sender: ['string', 'null'],
      canonical_alias: ['string', 'null'],
    });
    assert.equal(entry['event_id'], eventId);
    assert.equal(entry['user_id'], bob.userId);
    assert.equal(entry['sender'], alice.userId);
    assert.equal(entry['name'], 'Reported room');
    const one = await ok(call(admin, 'GET', `/_synapse/admin/v1/event_reports/${entry['id'] as number}`));
    expectShape(one, { event_json: 'object' });
    assert.equal((one['event_json'] as Json)['event_id'] ?? eventId, eventId);
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v1/event_reports/999999'), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'GET', '/_synapse/admin/v1/event_reports/abc'), 400, 'M_INVALID_PARAM');
  });
});

describe('admin API: server notices (server_notices.md)', () => {
  test('server_notices.md § send_server_notice: an invite from the notices user, then the notice', async () => {
    const sent = await ok(call(admin, 'POST', '/_synapse/admin/v1/send_server_notice', { user_id: carol.userId, content: { msgtype: 'm.text', body: 'Maintenance tonight' } }));
    expectShape(sent, { event_id: 'string' });
    const sync = await client(carol, 'GET', '/sync');
    expectSpecResponse(sync, 'sync');
    const invites = ((sync.body as Json)['rooms'] as Json)['invite'] as Record<string, Json>;
    const [roomId] = Object.entries(invites).find(([, r]) =>
      ((r['invite_state'] as Json)['events'] as Json[]).some((e) => e['type'] === 'm.room.member' && e['sender'] === `@server-notices:${node.serverName}`),
    ) ?? [];
    assert.ok(roomId, 'carol is invited to her notices room');
    expectSpecResponse(await client(carol, 'POST', `/rooms/${enc(roomId)}/join`, {}), 'joinRoomById');
    const tags = await call(carol, 'GET', `/_matrix/client/v3/user/${enc(carol.userId)}/rooms/${enc(roomId)}/tags`);
    expectSpecResponse(tags, 'getRoomTags');
    assert.deepEqual((tags.body as Json)['tags'], { 'm.server_notice': {} }, 'client-server § "Server Notices": the room is tagged');
    const messages = await client(carol, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=20`);
    expectSpecResponse(messages, 'getRoomEvents');
    const notice = ((messages.body as Json)['chunk'] as Json[]).find((e) => e['event_id'] === sent['event_id']);
    assert.equal((notice?.['content'] as Json | undefined)?.['body'], 'Maintenance tonight');
    // The second notice goes to the same room.
    const second = await ok(call(admin, 'PUT', '/_synapse/admin/v1/send_server_notice/n2', { user_id: carol.userId, content: { msgtype: 'm.text', body: 'Done' } }));
    const event = await client(carol, 'GET', `/rooms/${enc(roomId)}/event/${enc(second['event_id'] as string)}`);
    expectSpecResponse(event, 'getOneRoomEvent');
    // Only the notices user may speak there.
    expectMatrixError(await client(carol, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/reply1`, { msgtype: 'm.text', body: 'hi' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(admin, 'POST', '/_synapse/admin/v1/send_server_notice', { user_id: `@ghost:${node.serverName}`, content: {} }), 404, 'M_NOT_FOUND');
  });
});

describe('admin API: compliance role and the audit log', () => {
  test('compliance role: reads and exports allowed (and logged), changes refused; revocable', async () => {
    const granted = await ok(call(admin, 'PUT', `/_stoa/admin/v1/users/${enc(auditor.userId)}/roles/compliance`));
    assert.deepEqual(granted, { user_id: auditor.userId, roles: ['compliance'] });
    expectMatrixError(await call(admin, 'PUT', `/_stoa/admin/v1/users/${enc(auditor.userId)}/roles/superuser`), 400, 'M_INVALID_PARAM');

    const room = await createRoom(alice, { preset: 'private_chat', name: 'Confidential' });
    await send(alice, room, { msgtype: 'm.text', body: 'secret plans' });
    const users = await ok(call(auditor, 'GET', '/_synapse/admin/v2/users'));
    assert.ok((users['users'] as Json[]).length > 0);
    const messages = await ok(call(auditor, 'GET', `/_synapse/admin/v1/rooms/${enc(room)}/messages?dir=b&limit=5`));
    assert.ok((messages['chunk'] as Json[]).some((e) => (e['content'] as Json)['body'] === 'secret plans'), 'compliance reads a room it is not in');
    await ok(call(auditor, 'GET', '/_stoa/admin/v1/audit_log'));

    expectMatrixError(await call(auditor, 'PUT', `/_synapse/admin/v2/users/${enc(bob.userId)}`, { admin: true }), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(auditor, 'DELETE', `/_synapse/admin/v2/rooms/${enc(room)}`, {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(auditor, 'POST', '/_synapse/admin/v1/registration_tokens/new', {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(auditor, 'PUT', `/_stoa/admin/v1/users/${enc(auditor.userId)}/roles/compliance`), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(auditor, 'POST', `/_synapse/admin/v1/users/${enc(bob.userId)}/login`, {}), 403, 'M_FORBIDDEN');

    const entries = await auditEntries();
    const reads = entries.filter((e) => e['actor'] === auditor.userId).map((e) => [e['action'], e['target']]);
    assert.deepEqual(reads, [
      ['read:list-users', null],
      ['read:room-messages', room],
      ['read:read-audit-log', null],
    ]);

    const revoked = await ok(call(admin, 'DELETE', `/_stoa/admin/v1/users/${enc(auditor.userId)}/roles/compliance`));
    assert.deepEqual(revoked['roles'], []);
    expectMatrixError(await call(auditor, 'GET', '/_synapse/admin/v2/users'), 403, 'M_FORBIDDEN');
  });

  test('audit log: every change is an entry (actor, action, target, origin), paginated, chained', async () => {
    const entries = await auditEntries();
    for (const entry of entries) {
      expectShape(entry, { seq: 'number', ts: 'number', actor: 'string', action: 'string', target: ['string', 'null'], origin: 'string', details: 'object', prev_hash: 'string', hash: 'string' }, 'entries[]');
    }
    assert.deepEqual(entries.map((e) => e['seq']), entries.map((_, i) => i + 1), 'gapless from 1');
    for (let i = 1; i < entries.length; i++) assert.equal(entries[i]!['prev_hash'], entries[i - 1]!['hash']);
    const actions = new Set(entries.map((e) => `${e['action'] as string} ${String(e['target'])}`));
    for (const expected of [
      `create-user @dave:${node.serverName}`,
      `modify-user @dave:${node.serverName}`,
      `reset-password @erin:${node.serverName}`,
      `login-as-user ${bob.userId}`,
      `deactivate-user @frank:${node.serverName}`,
      `quarantine-media mxc://`,
      `grant-role ${auditor.userId}`,
      `revoke-role ${auditor.userId}`,
      `send-server-notice ${carol.userId}`,
    ]) {
      assert.ok([...actions].some((a) => a.startsWith(expected)), `audit log has "${expected}"`);
    }
    for (const action of ['shadow-ban', 'lift-shadow-ban', 'delete-room', 'block-room', 'make-room-admin', 'create-registration-token', 'update-registration-token', 'delete-registration-token', 'delete-media']) {
      assert.ok(entries.some((e) => e['action'] === action), action);
    }
    const deactivation = entries.find((e) => e['action'] === 'deactivate-user')!;
    assert.equal(deactivation['actor'], admin.userId);
    assert.deepEqual(deactivation['details'], { erase: true });
    assert.match(deactivation['origin'] as string, /127\.0\.0\.1|::1/);
    assert.ok(!JSON.stringify(entries).includes('dave-pw-1') && !JSON.stringify(entries).includes('erin-new'), 'no passwords in the log');
    // Reads by admins are not logged.
    assert.ok(!entries.some((e) => e['actor'] === admin.userId && String(e['action']).startsWith('read:')));

    const page = await ok(call(admin, 'GET', '/_stoa/admin/v1/audit_log?from=2&limit=3'));
    assert.deepEqual((page['entries'] as Json[]).map((e) => e['seq']), [3, 4, 5]);
    assert.equal(page['next_token'], '5');
  });

  test('stoa verify-audit-log passes on the log the admin API wrote', async () => {
    await node.halt();
    try {
      const result = await runStoaCommand(['verify-audit-log', '--config', node.configPath]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /VERIFIED: \d+ audit log entries, chain intact/);
    } finally {
      await node.restart();
    }
  });
});
