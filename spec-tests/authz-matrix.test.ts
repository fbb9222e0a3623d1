// The authorization matrix (issue 11 item 4): for the client endpoints that touch a room or
// another user's data, someone without the right — an outsider, a member below the power
// level, another user, a deactivated account, a guest — gets the spec's error, changes
// nothing, and learns nothing: no response in this file may carry the room's secret text.
// Spec: client-server § "Room membership", "Permissions" (power levels), "History
// visibility", "Guest access", "Client config", "Server side filters", "Device management",
// "Account deactivation".

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const SECRET = 'SECRET-7f3a';
const enc = encodeURIComponent;

let node: TestNode;
let alice: RegisteredUser; // room creator (power 100)
let bob: RegisteredUser; // member (power 0)
let eve: RegisteredUser; // not in the room
let dan: RegisteredUser; // deactivated
let guest: { accessToken: string; userId: string };
let roomId: string;
let secretEventId: string;
let aliceFilterId: string;
let covered = 0;

type Who = { accessToken: string } | undefined;

function call(who: Who, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, {
    method,
    ...(who === undefined ? {} : { headers: authHeaders(who) }),
    ...(body === undefined ? {} : { body }),
  });
}

/** One refused case: status and errcode among those the spec allows, and no secret in the body. */
async function refused(who: Who, method: string, path: string, body: unknown, allowed: ReadonlyArray<[number, string]>): Promise<void> {
  const res = await call(who, method, path, body);
  covered++;
  const errcode = (res.body as { errcode?: unknown } | undefined)?.errcode;
  assert.ok(
    allowed.some(([status, code]) => res.status === status && errcode === code),
    `${method} ${path}: expected ${allowed.map(([s, c]) => `${s} ${c}`).join(' or ')}, got ${res.status} ${res.text.slice(0, 200)}`,
  );
  assert.equal(res.text.includes(SECRET), false, `${method} ${path} leaked the secret`);
}

const FORBIDDEN: ReadonlyArray<[number, string]> = [[403, 'M_FORBIDDEN']];
const NOT_FOUND: ReadonlyArray<[number, string]> = [[404, 'M_NOT_FOUND']];
const FORBIDDEN_OR_NOT_FOUND: ReadonlyArray<[number, string]> = [...FORBIDDEN, ...NOT_FOUND];

async function ok(who: Who, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await call(who, method, path, body);
  assert.equal(res.status, 200, `${method} ${path}: ${res.status} ${res.text}`);
  return res.body as Record<string, unknown>;
}

before(async () => {
  [node] = (await startNodes(1, { configOverrides: { registration: { allow_guests: true } } })) as [TestNode];
  [alice, bob, eve, dan] = await Promise.all([registerUser(node, 'alice'), registerUser(node, 'bob'), registerUser(node, 'eve'), registerUser(node, 'dan')]);
  roomId = String((await ok(alice, 'POST', '/createRoom', { preset: 'private_chat', name: 'board room', invite: [bob.userId, dan.userId] }))['room_id']);
  await ok(bob, 'POST', `/join/${enc(roomId)}`, {});
  await ok(dan, 'POST', `/join/${enc(roomId)}`, {});
  secretEventId = String((await ok(alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/s1`, { msgtype: 'm.text', body: SECRET }))['event_id']);
  await ok(alice, 'PUT', `/user/${enc(alice.userId)}/account_data/org.example.private`, { note: SECRET });
  await ok(alice, 'PUT', `/user/${enc(alice.userId)}/rooms/${enc(roomId)}/account_data/org.example.private`, { note: SECRET });
  await ok(alice, 'PUT', `/user/${enc(alice.userId)}/rooms/${enc(roomId)}/tags/${enc(SECRET)}`, {});
  aliceFilterId = String((await ok(alice, 'POST', `/user/${enc(alice.userId)}/filter`, { room: { rooms: [roomId] }, event_fields: [SECRET] }))['filter_id']);
  // dan deactivates (behind user-interactive auth with his password).
  const deactivate = await call(dan, 'POST', '/account/deactivate', {});
  const session = String((deactivate.body as { session?: string }).session);
  await ok(dan, 'POST', '/account/deactivate', { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: dan.userId }, password: dan.password, session } });
  const registered = await request(`${node.clientUrl}/_matrix/client/v3/register?kind=guest`, { method: 'POST', body: {} });
  assert.equal(registered.status, 200, registered.text);
  guest = { accessToken: String((registered.body as { access_token: string }).access_token), userId: String((registered.body as { user_id: string }).user_id) };
});

after(() => stopNodes(node === undefined ? [] : [node]));

describe('authorization matrix: a user who is not in the room', () => {
  test('room reads are refused and leak nothing (/messages, /context, /event, /state, /members, /relations, /aliases)', async () => {
    const r = enc(roomId);
    const e = enc(secretEventId);
    await refused(eve, 'GET', `/rooms/${r}/messages?dir=b`, undefined, FORBIDDEN);
    await refused(eve, 'GET', `/rooms/${r}/context/${e}`, undefined, FORBIDDEN_OR_NOT_FOUND);
    await refused(eve, 'GET', `/rooms/${r}/event/${e}`, undefined, NOT_FOUND);
    await refused(eve, 'GET', `/rooms/${r}/state`, undefined, FORBIDDEN);
    await refused(eve, 'GET', `/rooms/${r}/state/m.room.name/`, undefined, FORBIDDEN);
    await refused(eve, 'GET', `/rooms/${r}/members`, undefined, FORBIDDEN);
    await refused(eve, 'GET', `/rooms/${r}/joined_members`, undefined, FORBIDDEN);
    await refused(eve, 'GET', `/rooms/${r}/aliases`, undefined, FORBIDDEN);
    const relations = await request(`${node.clientUrl}/_matrix/client/v1/rooms/${r}/relations/${e}`, { headers: authHeaders(eve) });
    covered++;
    assert.ok([403, 404].includes(relations.status), `relations answered ${relations.status}`);
    assert.equal(relations.text.includes(SECRET), false);
  });

  test('room writes are refused and change nothing (send, state, invite, kick, ban, redact, typing, join)', async () => {
    const r = enc(roomId);
    await refused(eve, 'PUT', `/rooms/${r}/send/m.room.message/e1`, { msgtype: 'm.text', body: 'intrusion' }, FORBIDDEN);
    await refused(eve, 'PUT', `/rooms/${r}/state/m.room.topic/`, { topic: 'hijacked' }, FORBIDDEN);
    await refused(eve, 'POST', `/rooms/${r}/invite`, { user_id: eve.userId }, FORBIDDEN);
    await refused(eve, 'POST', `/rooms/${r}/kick`, { user_id: bob.userId }, FORBIDDEN);
    await refused(eve, 'POST', `/rooms/${r}/ban`, { user_id: bob.userId }, FORBIDDEN);
    await refused(eve, 'PUT', `/rooms/${r}/redact/${enc(secretEventId)}/e2`, {}, FORBIDDEN);
    await refused(eve, 'PUT', `/rooms/${r}/typing/${enc(eve.userId)}`, { typing: true, timeout: 1000 }, FORBIDDEN);
    await refused(eve, 'POST', `/join/${r}`, {}, FORBIDDEN);
    const members = await ok(alice, 'GET', `/rooms/${r}/joined_members`);
    assert.deepEqual(Object.keys(members['joined'] as object).sort(), [alice.userId, bob.userId].sort());
    const topic = await call(alice, 'GET', `/rooms/${r}/state/m.room.topic/`);
    assert.equal(topic.status, 404, 'no topic was set');
  });

  test('/sync shows the outsider nothing of the room', async () => {
    const sync = await call(eve, 'GET', '/sync?timeout=0');
    covered++;
    assert.equal(sync.status, 200);
    assert.equal(sync.text.includes(roomId), false);
    assert.equal(sync.text.includes(SECRET), false);
  });
});

describe('authorization matrix: a member below the power level', () => {
  test('power levels, kick, ban, room name and redacting others are refused; the room is unchanged', async () => {
    const r = enc(roomId);
    await refused(bob, 'PUT', `/rooms/${r}/state/m.room.power_levels/`, { users: { [bob.userId]: 100 } }, FORBIDDEN);
    await refused(bob, 'POST', `/rooms/${r}/kick`, { user_id: alice.userId }, FORBIDDEN);
    await refused(bob, 'POST', `/rooms/${r}/ban`, { user_id: alice.userId }, FORBIDDEN);
    await refused(bob, 'PUT', `/rooms/${r}/state/m.room.name/`, { name: 'renamed' }, FORBIDDEN);
    await refused(bob, 'PUT', `/rooms/${r}/redact/${enc(secretEventId)}/b1`, {}, FORBIDDEN);
    await refused(bob, 'PUT', `/rooms/${r}/state/m.room.member/${enc(alice.userId)}`, { membership: 'leave' }, FORBIDDEN);
    const levels = await ok(alice, 'GET', `/rooms/${r}/state/m.room.power_levels/`);
    assert.equal((levels['users'] as Record<string, number>)[bob.userId], undefined);
    assert.equal((await ok(alice, 'GET', `/rooms/${r}/state/m.room.name/`))['name'], 'board room');
    const secret = await ok(alice, 'GET', `/rooms/${r}/event/${enc(secretEventId)}`);
    assert.equal((secret['content'] as { body?: string }).body, SECRET, 'the message was not redacted');
  });
});

describe('authorization matrix: another user\u2019s data', () => {
  test('account data, room account data, tags, filters and presence of another user are refused', async () => {
    const a = enc(alice.userId);
    const r = enc(roomId);
    await refused(eve, 'GET', `/user/${a}/account_data/org.example.private`, undefined, FORBIDDEN);
    await refused(eve, 'PUT', `/user/${a}/account_data/org.example.private`, { note: 'overwritten' }, FORBIDDEN);
    await refused(eve, 'GET', `/user/${a}/rooms/${r}/account_data/org.example.private`, undefined, FORBIDDEN);
    await refused(eve, 'PUT', `/user/${a}/rooms/${r}/account_data/org.example.private`, { note: 'overwritten' }, FORBIDDEN);
    await refused(eve, 'GET', `/user/${a}/rooms/${r}/tags`, undefined, FORBIDDEN);
    await refused(eve, 'PUT', `/user/${a}/rooms/${r}/tags/stolen`, {}, FORBIDDEN);
    await refused(eve, 'GET', `/user/${a}/filter/${enc(aliceFilterId)}`, undefined, FORBIDDEN_OR_NOT_FOUND);
    await refused(eve, 'POST', `/user/${a}/filter`, {}, FORBIDDEN);
    await refused(eve, 'PUT', `/presence/${a}/status`, { presence: 'offline' }, FORBIDDEN);
    assert.equal((await ok(alice, 'GET', `/user/${a}/account_data/org.example.private`))['note'], SECRET);
    assert.equal((await ok(alice, 'GET', `/user/${a}/rooms/${r}/account_data/org.example.private`))['note'], SECRET);
  });

  test('another user\u2019s devices cannot be read, renamed or deleted', async () => {
    const device = enc(alice.deviceId);
    await refused(eve, 'GET', `/devices/${device}`, undefined, NOT_FOUND);
    await refused(eve, 'PUT', `/devices/${device}`, { display_name: 'pwned' }, NOT_FOUND);
    const deleted = await call(eve, 'DELETE', `/devices/${device}`, {});
    covered++;
    assert.ok([401, 404].includes(deleted.status), `DELETE someone else's device answered ${deleted.status}`);
    const withAuth = await call(eve, 'POST', '/delete_devices', {
      devices: [alice.deviceId],
      auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: eve.userId }, password: eve.password, session: String((deleted.body as { session?: string } | undefined)?.session ?? '') },
    });
    covered++;
    assert.ok([200, 401, 403].includes(withAuth.status), `delete_devices answered ${withAuth.status}`);
    const still = await ok(alice, 'GET', '/devices');
    assert.ok((still['devices'] as Array<{ device_id: string }>).some((d) => d.device_id === alice.deviceId), 'alice\u2019s device survived');
    assert.equal((await ok(alice, 'GET', `/devices/${device}`))['display_name'] === 'pwned', false);
  });

  test('another user\u2019s key backup is invisible: each user sees only their own', async () => {
    await ok(alice, 'POST', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'abc', note: SECRET } });
    await refused(eve, 'GET', '/room_keys/version', undefined, NOT_FOUND);
  });
});

describe('authorization matrix: a deactivated account', () => {
  test('its old access token is dead and its password no longer logs in', async () => {
    await refused(dan, 'GET', '/account/whoami', undefined, [[401, 'M_UNKNOWN_TOKEN']]);
    await refused(dan, 'GET', `/rooms/${enc(roomId)}/messages?dir=b`, undefined, [[401, 'M_UNKNOWN_TOKEN']]);
    await refused(undefined, 'POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: dan.userId }, password: dan.password }, [
      [403, 'M_USER_DEACTIVATED'],
      [403, 'M_FORBIDDEN'],
    ]);
  });
});

describe('authorization matrix: a guest', () => {
  test('guests may not create rooms, nor read or write a room without guest access', async () => {
    await refused(guest, 'POST', '/createRoom', {}, [[403, 'M_GUEST_ACCESS_FORBIDDEN']]);
    await refused(guest, 'POST', `/join/${enc(roomId)}`, {}, [[403, 'M_FORBIDDEN'], [403, 'M_GUEST_ACCESS_FORBIDDEN']]);
    await refused(guest, 'GET', `/rooms/${enc(roomId)}/messages?dir=b`, undefined, [[403, 'M_FORBIDDEN'], [403, 'M_GUEST_ACCESS_FORBIDDEN']]);
    await refused(guest, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/g1`, { msgtype: 'm.text', body: 'hi' }, [[403, 'M_FORBIDDEN'], [403, 'M_GUEST_ACCESS_FORBIDDEN']]);
  });

  test('endpoints outside the spec’s guest list answer 403 M_GUEST_ACCESS_FORBIDDEN; those on it work', async () => {
    const g = enc(guest.userId);
    const forbidden: ReadonlyArray<[number, string]> = [[403, 'M_GUEST_ACCESS_FORBIDDEN']];
    await refused(guest, 'PUT', `/profile/${g}/avatar_url`, { avatar_url: 'mxc://example.org/abc' }, forbidden);
    await refused(guest, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: eve.userId }, forbidden);
    await refused(guest, 'PUT', `/user/${g}/account_data/org.example`, {}, forbidden);
    await refused(guest, 'POST', '/account/password', { new_password: 'x' }, forbidden);
    await refused(guest, 'GET', '/pushers', undefined, forbidden);
    await ok(guest, 'GET', '/account/whoami');
    await ok(guest, 'PUT', `/profile/${g}/displayname`, { displayname: 'Visitor' });
    await ok(guest, 'GET', '/sync?timeout=0');
    await ok(guest, 'GET', '/devices');
  });
});

describe('authorization matrix: no token at all', () => {
  test('every authenticated endpoint here answers 401 M_MISSING_TOKEN', async (t) => {
    for (const [method, path] of [
      ['GET', '/sync'],
      ['GET', `/rooms/${enc(roomId)}/messages?dir=b`],
      ['GET', `/rooms/${enc(roomId)}/state`],
      ['PUT', `/rooms/${enc(roomId)}/send/m.room.message/n1`],
      ['GET', `/user/${enc(alice.userId)}/account_data/org.example.private`],
      ['GET', '/devices'],
      ['POST', '/keys/query'],
      ['GET', '/room_keys/version'],
    ] as const) {
      await refused(undefined, method, path, method === 'GET' ? undefined : {}, [[401, 'M_MISSING_TOKEN']]);
    }
    t.diagnostic(`${covered} authorization cases checked in this file`);
  });
});
