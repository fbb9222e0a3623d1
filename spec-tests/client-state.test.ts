// Black-box: profiles, typing, receipts, read markers, account data, tags, presence and
// capabilities on a real node (client-server API § "Profiles", § "Typing Notifications",
// § "Receipts", § "Fully read markers", § "Client Config", § "Room Tagging", § "Presence",
// § "Capabilities negotiation"). Every response is checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser } from './rig/users.ts';

type User = Awaited<ReturnType<typeof registerUser>>;

let node: TestNode;
let alice: User;
let bob: User;
/** A room alice created, or undefined while POST /createRoom is not served. */
let roomId: string | undefined;
let messageId: string | undefined;

function call(user: User | undefined, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}${path}`, {
    method,
    headers: user === undefined ? {} : { authorization: `Bearer ${user.accessToken}` },
    ...(body === undefined ? {} : { body }),
  });
}

const enc = encodeURIComponent;

function needsRoom(t: TestContext): string | undefined {
  if (roomId === undefined) t.skip('POST /createRoom is not served yet');
  return roomId;
}

before(async () => {
  [node] = (await startNodes(1)) as [TestNode];
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  const created = await call(alice, 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat' });
  if (created.status === 200) {
    roomId = (created.body as { room_id: string }).room_id;
    const sent = await call(alice, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/t1`, {
      msgtype: 'm.text',
      body: 'hello',
    });
    if (sent.status === 200) messageId = (sent.body as { event_id: string }).event_id;
  }
});

after(() => stopNodes(node === undefined ? [] : [node]));

test('Capabilities negotiation: GET /capabilities lists room versions 1–12, default 12', async () => {
  const res = await call(alice, 'GET', '/_matrix/client/v3/capabilities');
  expectSpecResponse(res, 'getCapabilities');
  const caps = (res.body as { capabilities: Record<string, { default?: string; available?: Record<string, string> }> }).capabilities;
  assert.equal(caps['m.room_versions']?.default, '12');
  assert.deepEqual(Object.keys(caps['m.room_versions']?.available ?? {}).sort((a, b) => Number(a) - Number(b)), [
    '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12',
  ]);
  expectMatrixError(await call(undefined, 'GET', '/_matrix/client/v3/capabilities'), 401, 'M_MISSING_TOKEN');
});

test('Profiles: default displayname, set and read back, 404 for unknown users, 403 for others', async () => {
  const profilePath = `/_matrix/client/v3/profile/${enc(bob.userId)}`;
  const initial = await call(undefined, 'GET', profilePath);
  expectSpecResponse(initial, 'getUserProfile');
  assert.deepEqual(initial.body, { displayname: 'bob' });

  const set = await call(bob, 'PUT', `${profilePath}/displayname`, { displayname: 'Bob B.' });
  expectSpecResponse(set, 'setProfileField');
  const field = await call(alice, 'GET', `${profilePath}/displayname`);
  expectSpecResponse(field, 'getProfileField');
  assert.deepEqual(field.body, { displayname: 'Bob B.' });

  const custom = await call(bob, 'PUT', `${profilePath}/org.example.job`, { 'org.example.job': { title: 'tester' } });
  expectSpecResponse(custom, 'setProfileField');
  const deleted = await call(bob, 'DELETE', `${profilePath}/org.example.job`);
  expectSpecResponse(deleted, 'deleteProfileField');
  expectMatrixError(await call(bob, 'GET', `${profilePath}/org.example.job`), 404, 'M_NOT_FOUND');

  const missing = await call(alice, 'GET', `/_matrix/client/v3/profile/${enc(`@nobody:${node.serverName}`)}`);
  expectSpecResponse(missing, 'getUserProfile');
  expectMatrixError(missing, 404, 'M_NOT_FOUND');
  const forbidden = await call(alice, 'PUT', `${profilePath}/displayname`, { displayname: 'hijack' });
  expectSpecResponse(forbidden, 'setProfileField');
  expectMatrixError(forbidden, 403, 'M_FORBIDDEN');
  const noKey = await call(bob, 'PUT', `${profilePath}/displayname`, { avatar_url: 'mxc://a/b' });
  expectSpecResponse(noKey, 'setProfileField');
  expectMatrixError(noKey, 400, 'M_MISSING_PARAM');
});

test('Profiles: a display name change updates the member event of every joined room', async (t) => {
  const room = needsRoom(t);
  if (room === undefined) return;
  const res = await call(alice, 'PUT', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, { displayname: 'Alice A.' });
  expectSpecResponse(res, 'setProfileField');
  const member = await call(alice, 'GET', `/_matrix/client/v3/rooms/${enc(room)}/state/m.room.member/${enc(alice.userId)}`);
  if (member.status === 404 && (member.body as { errcode?: string }).errcode === 'M_UNRECOGNIZED') {
    t.skip('GET /rooms/{roomId}/state is not served yet');
    return;
  }
  assert.equal(member.status, 200, member.text);
  assert.deepEqual(member.body, { membership: 'join', displayname: 'Alice A.' });
});

test('Client Config: global and room account data round-trip; server-managed types are 405', async () => {
  const base = `/_matrix/client/v3/user/${enc(alice.userId)}`;
  const put = await call(alice, 'PUT', `${base}/account_data/org.example.settings`, { theme: 'dark' });
  expectSpecResponse(put, 'setAccountData');
  const got = await call(alice, 'GET', `${base}/account_data/org.example.settings`);
  expectSpecResponse(got, 'getAccountData');
  assert.deepEqual(got.body, { theme: 'dark' });

  const missing = await call(alice, 'GET', `${base}/account_data/org.example.absent`);
  expectSpecResponse(missing, 'getAccountData');
  expectMatrixError(missing, 404, 'M_NOT_FOUND');
  const other = await call(bob, 'GET', `${base}/account_data/org.example.settings`);
  expectSpecResponse(other, 'getAccountData');
  expectMatrixError(other, 403, 'M_FORBIDDEN');
  const fullyRead = await call(alice, 'PUT', `${base}/account_data/m.fully_read`, { event_id: '$x' });
  expectSpecResponse(fullyRead, 'setAccountData');
  expectMatrixError(fullyRead, 405, 'M_BAD_JSON');
  expectMatrixError(await call(alice, 'PUT', `${base}/account_data/m.push_rules`, {}), 405, 'M_BAD_JSON');

  const room = '!somewhere:example.org';
  const roomPut = await call(alice, 'PUT', `${base}/rooms/${enc(room)}/account_data/org.example.pin`, { pinned: true });
  expectSpecResponse(roomPut, 'setAccountDataPerRoom');
  const roomGet = await call(alice, 'GET', `${base}/rooms/${enc(room)}/account_data/org.example.pin`);
  expectSpecResponse(roomGet, 'getAccountDataPerRoom');
  assert.deepEqual(roomGet.body, { pinned: true });
  const badRoom = await call(alice, 'PUT', `${base}/rooms/not-a-room/account_data/org.example.pin`, {});
  expectSpecResponse(badRoom, 'setAccountDataPerRoom');
  expectMatrixError(badRoom, 400, 'M_INVALID_PARAM');
});

test('Room Tagging: PUT, GET and DELETE tags', async () => {
  const tags = `/_matrix/client/v3/user/${enc(alice.userId)}/rooms/${enc('!tagged:example.org')}/tags`;
  expectSpecResponse(await call(alice, 'PUT', `${tags}/m.favourite`, { order: 0.5 }), 'setRoomTag');
  expectSpecResponse(await call(alice, 'PUT', `${tags}/u.work`, {}), 'setRoomTag');
  const got = await call(alice, 'GET', tags);
  expectSpecResponse(got, 'getRoomTags');
  assert.deepEqual(got.body, { tags: { 'm.favourite': { order: 0.5 }, 'u.work': {} } });
  expectSpecResponse(await call(alice, 'DELETE', `${tags}/u.work`), 'deleteRoomTag');
  assert.deepEqual((await call(alice, 'GET', tags)).body, { tags: { 'm.favourite': { order: 0.5 } } });
  expectMatrixError(await call(alice, 'PUT', `${tags}/bad`, { order: 7 }), 400, 'M_BAD_JSON');
});

test('Presence: set and get your own; another user cannot set it', async () => {
  const path = `/_matrix/client/v3/presence/${enc(alice.userId)}/status`;
  expectSpecResponse(await call(alice, 'PUT', path, { presence: 'unavailable', status_msg: 'lunch' }), 'setPresence');
  const got = await call(alice, 'GET', path);
  expectSpecResponse(got, 'getPresence');
  assert.equal((got.body as { presence: string }).presence, 'unavailable');
  assert.equal((got.body as { status_msg: string }).status_msg, 'lunch');
  expectMatrixError(await call(bob, 'PUT', path, { presence: 'online' }), 403, 'M_FORBIDDEN');
  const hidden = await call(bob, 'GET', path);
  expectSpecResponse(hidden, 'getPresence');
  expectMatrixError(hidden, 403, 'M_FORBIDDEN');
  expectMatrixError(await call(alice, 'PUT', path, { presence: 'asleep' }), 400, 'M_BAD_JSON');
});

test('Typing Notifications: members may type; others get 403', async (t) => {
  const room = needsRoom(t);
  if (room === undefined) return;
  const path = (user: User) => `/_matrix/client/v3/rooms/${enc(room)}/typing/${enc(user.userId)}`;
  expectSpecResponse(await call(alice, 'PUT', path(alice), { typing: true, timeout: 10_000 }), 'setTyping');
  expectSpecResponse(await call(alice, 'PUT', path(alice), { typing: false }), 'setTyping');
  expectMatrixError(await call(bob, 'PUT', path(bob), { typing: true, timeout: 1000 }), 403, 'M_FORBIDDEN');
  expectMatrixError(await call(alice, 'PUT', path(bob), { typing: true }), 403, 'M_FORBIDDEN');
});

test('Receipts and read markers: members only, events of the room only, thread_id checked', async (t) => {
  const room = needsRoom(t);
  if (room === undefined || messageId === undefined) {
    t.skip('no message to acknowledge');
    return;
  }
  const receipt = (type: string, eventId: string) =>
    `/_matrix/client/v3/rooms/${enc(room)}/receipt/${type}/${enc(eventId)}`;
  expectSpecResponse(await call(alice, 'POST', receipt('m.read', messageId), {}), 'postReceipt');
  expectSpecResponse(await call(alice, 'POST', receipt('m.read.private', messageId), { thread_id: 'main' }), 'postReceipt');
  expectSpecResponse(await call(alice, 'POST', receipt('m.fully_read', messageId), {}), 'postReceipt');
  const bad = await call(alice, 'POST', receipt('m.read', messageId), { thread_id: '' });
  expectSpecResponse(bad, 'postReceipt');
  expectMatrixError(bad, 400, 'M_INVALID_PARAM');
  expectMatrixError(await call(bob, 'POST', receipt('m.read', messageId), {}), 403, 'M_FORBIDDEN');
  expectMatrixError(await call(alice, 'POST', receipt('m.read', '$unknown:example.org'), {}), 404, 'M_NOT_FOUND');

  const markers = await call(alice, 'POST', `/_matrix/client/v3/rooms/${enc(room)}/read_markers`, {
    'm.fully_read': messageId,
    'm.read': messageId,
  });
  expectSpecResponse(markers, 'setReadMarker');
  const fullyRead = await call(alice, 'GET', `/_matrix/client/v3/user/${enc(alice.userId)}/rooms/${enc(room)}/account_data/m.fully_read`);
  expectSpecResponse(fullyRead, 'getAccountDataPerRoom');
  assert.deepEqual(fullyRead.body, { event_id: messageId });
});
