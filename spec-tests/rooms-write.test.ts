// Black-box: room creation, membership, state, sending, redaction and aliases on a real node
// (client-server API § "Creation", § "Room aliases", § "Room membership", § "Sending events
// to a room", § "Redactions"). Every response shape is checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;

const enc = encodeURIComponent;

function call(user: RegisteredUser | undefined, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, {
    method,
    headers: user === undefined ? {} : { authorization: `Bearer ${user.accessToken}` },
    ...(body === undefined ? {} : { body }),
  });
}

async function createRoom(user: RegisteredUser, body: Record<string, unknown>): Promise<string> {
  const res = await call(user, 'POST', '/createRoom', body);
  expectSpecResponse(res, 'createRoom');
  assert.equal(res.status, 200, res.text);
  return (res.body as { room_id: string }).room_id;
}

before(async () => {
  [node] = (await startNodes(1)) as [TestNode];
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  carol = await registerUser(node, 'carol');
});
after(() => stopNodes(node === undefined ? [] : [node]));

test('createRoom § with every preset, versions 1, 10 and 12 (default), alias, name, topic and invites', async () => {
  for (const [preset, version] of [
    ['private_chat', '1'],
    ['trusted_private_chat', '10'],
    ['public_chat', undefined],
  ] as const) {
    const roomId = await createRoom(alice, {
      preset,
      ...(version === undefined ? {} : { room_version: version }),
      room_alias_name: `preset-${preset}`,
      name: `Room ${preset}`,
      topic: 'About things',
      invite: [bob.userId],
      initial_state: [{ type: 'org.example.flag', state_key: 'x', content: { on: true } }],
      power_level_content_override: { events_default: 10 },
    });
    assert.match(roomId, /^!/);
    const alias = `#preset-${preset}:${node.serverName}`;
    const resolved = await call(undefined, 'GET', `/directory/room/${enc(alias)}`);
    expectSpecResponse(resolved, 'getRoomIdByAlias');
    assert.deepEqual(resolved.body, { room_id: roomId, servers: [node.serverName] });
    // Bob was invited and may join.
    const joined = await call(bob, 'POST', `/rooms/${enc(roomId)}/join`, {});
    expectSpecResponse(joined, 'joinRoomById');
    assert.deepEqual(joined.body, { room_id: roomId });
  }
});

test('createRoom § errors: unknown room version 400 M_UNSUPPORTED_ROOM_VERSION, alias taken 400 M_ROOM_IN_USE', async () => {
  const unsupported = await call(alice, 'POST', '/createRoom', { room_version: 'nope' });
  expectSpecResponse(unsupported, 'createRoom');
  expectMatrixError(unsupported, 400, 'M_UNSUPPORTED_ROOM_VERSION');
  await createRoom(alice, { room_alias_name: 'only-once' });
  const taken = await call(bob, 'POST', '/createRoom', { room_alias_name: 'only-once' });
  expectSpecResponse(taken, 'createRoom');
  expectMatrixError(taken, 400, 'M_ROOM_IN_USE');
  const invalid = await call(alice, 'POST', '/createRoom', {
    room_version: '10',
    power_level_content_override: { users: { [alice.userId]: 0 } },
    name: 'unreachable',
  });
  expectMatrixError(invalid, 400, 'M_INVALID_ROOM_STATE');
});

test('membership § invite, join by alias, kick, ban, unban, leave, forget, and the 403s', async () => {
  const roomId = await createRoom(alice, { preset: 'private_chat', room_alias_name: 'members' });
  const refused = await call(carol, 'POST', `/join/${enc(`#members:${node.serverName}`)}`, {});
  expectSpecResponse(refused, 'joinRoom');
  expectMatrixError(refused, 403, 'M_FORBIDDEN');

  const invited = await call(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: carol.userId, reason: 'join us' });
  expectSpecResponse(invited, 'inviteUser');
  const byAlias = await call(carol, 'POST', `/join/${enc(`#members:${node.serverName}`)}`, {});
  expectSpecResponse(byAlias, 'joinRoom');
  assert.deepEqual(byAlias.body, { room_id: roomId });

  const weakKick = await call(carol, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: alice.userId });
  expectSpecResponse(weakKick, 'kick');
  expectMatrixError(weakKick, 403, 'M_FORBIDDEN');
  const kicked = await call(alice, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: carol.userId, reason: 'bye' });
  expectSpecResponse(kicked, 'kick');

  const weakBan = await call(carol, 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: alice.userId });
  expectSpecResponse(weakBan, 'ban');
  expectMatrixError(weakBan, 403, 'M_FORBIDDEN');
  const banned = await call(alice, 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: carol.userId, reason: 'spam' });
  expectSpecResponse(banned, 'ban');
  const bannedInvite = await call(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: carol.userId });
  expectSpecResponse(bannedInvite, 'inviteUser');
  expectMatrixError(bannedInvite, 403, 'M_FORBIDDEN');
  const weakUnban = await call(bob, 'POST', `/rooms/${enc(roomId)}/unban`, { user_id: carol.userId });
  expectSpecResponse(weakUnban, 'unban');
  assert.equal(weakUnban.status, 403);
  const unbanned = await call(alice, 'POST', `/rooms/${enc(roomId)}/unban`, { user_id: carol.userId });
  expectSpecResponse(unbanned, 'unban');

  await call(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
  await call(bob, 'POST', `/rooms/${enc(roomId)}/join`, {});
  const stillIn = await call(bob, 'POST', `/rooms/${enc(roomId)}/forget`);
  expectSpecResponse(stillIn, 'forgetRoom');
  expectMatrixError(stillIn, 400, 'M_UNKNOWN');
  const left = await call(bob, 'POST', `/rooms/${enc(roomId)}/leave`, { reason: 'done' });
  expectSpecResponse(left, 'leaveRoom');
  const forgotten = await call(bob, 'POST', `/rooms/${enc(roomId)}/forget`);
  expectSpecResponse(forgotten, 'forgetRoom');
  assert.equal(forgotten.status, 200);
});

test('knock § on a room whose join rule is knock', async () => {
  const roomId = await createRoom(alice, {
    preset: 'private_chat',
    initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }],
  });
  const knocked = await call(carol, 'POST', `/knock/${enc(roomId)}`, { reason: 'please' });
  expectSpecResponse(knocked, 'knockRoom');
  assert.deepEqual(knocked.body, { room_id: roomId });
  const unknown = await call(carol, 'POST', `/knock/${enc(`#nowhere:${node.serverName}`)}`, {});
  expectSpecResponse(unknown, 'knockRoom');
  expectMatrixError(unknown, 404, 'M_NOT_FOUND');
});

test('send § transaction-ID idempotency, state PUT with and without a key, redaction', async () => {
  const roomId = await createRoom(alice, { preset: 'public_chat' });
  const path = `/rooms/${enc(roomId)}/send/m.room.message/${enc('txn-1')}`;
  const first = await call(alice, 'PUT', path, { msgtype: 'm.text', body: 'hello' });
  expectSpecResponse(first, 'sendMessage');
  const retry = await call(alice, 'PUT', path, { msgtype: 'm.text', body: 'hello' });
  assert.deepEqual(retry.body, first.body);
  const messageId = (first.body as { event_id: string }).event_id;

  const outsider = await call(carol, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t2`, { body: 'x' });
  // sendMessage declares no 403; M_FORBIDDEN is the common error for "not in the room".
  expectMatrixError(outsider, 403, 'M_FORBIDDEN');

  const topic = await call(alice, 'PUT', `/rooms/${enc(roomId)}/state/m.room.topic`, { topic: 'new' });
  expectSpecResponse(topic, 'setRoomStateWithKey');
  const keyed = await call(alice, 'PUT', `/rooms/${enc(roomId)}/state/org.example.pet/${enc(alice.userId)}`, { animal: 'cat' });
  expectSpecResponse(keyed, 'setRoomStateWithKey');
  assert.match((keyed.body as { event_id: string }).event_id, /^\$/);
  await call(bob, 'POST', `/join/${enc(roomId)}`, {});
  const weak = await call(bob, 'PUT', `/rooms/${enc(roomId)}/state/m.room.topic`, { topic: 'mine' });
  expectSpecResponse(weak, 'setRoomStateWithKey');
  expectMatrixError(weak, 403, 'M_FORBIDDEN');
  const badAlias = await call(alice, 'PUT', `/rooms/${enc(roomId)}/state/m.room.canonical_alias`, { alias: `#absent:${node.serverName}` });
  expectSpecResponse(badAlias, 'setRoomStateWithKey');
  expectMatrixError(badAlias, 400, 'M_BAD_ALIAS');

  const othersEvent = await call(bob, 'PUT', `/rooms/${enc(roomId)}/redact/${enc(messageId)}/r1`, { reason: 'no' });
  expectMatrixError(othersEvent, 403, 'M_FORBIDDEN');
  const redacted = await call(alice, 'PUT', `/rooms/${enc(roomId)}/redact/${enc(messageId)}/r1`, { reason: 'oops' });
  expectSpecResponse(redacted, 'redactEvent');
  assert.match((redacted.body as { event_id: string }).event_id, /^\$/);
});

test('aliases § PUT (409 M_ROOM_IN_USE when taken), GET, GET /rooms/{roomId}/aliases, DELETE', async () => {
  const roomId = await createRoom(alice, { preset: 'public_chat' });
  const alias = `#directory:${node.serverName}`;
  const created = await call(alice, 'PUT', `/directory/room/${enc(alias)}`, { room_id: roomId });
  expectSpecResponse(created, 'setRoomAlias');
  const taken = await call(alice, 'PUT', `/directory/room/${enc(alias)}`, { room_id: roomId });
  expectSpecResponse(taken, 'setRoomAlias');
  expectMatrixError(taken, 409, 'M_ROOM_IN_USE');
  const invalid = await call(alice, 'PUT', `/directory/room/${enc('not-an-alias')}`, { room_id: roomId });
  expectSpecResponse(invalid, 'setRoomAlias');
  expectMatrixError(invalid, 400, 'M_INVALID_PARAM');

  const list = await call(alice, 'GET', `/rooms/${enc(roomId)}/aliases`);
  expectSpecResponse(list, 'getLocalAliases');
  assert.deepEqual(list.body, { aliases: [alias] });
  const outsider = await call(carol, 'GET', `/rooms/${enc(roomId)}/aliases`);
  expectSpecResponse(outsider, 'getLocalAliases');
  expectMatrixError(outsider, 403, 'M_FORBIDDEN');

  const deleted = await call(alice, 'DELETE', `/directory/room/${enc(alias)}`);
  expectSpecResponse(deleted, 'deleteRoomAlias');
  const gone = await call(alice, 'DELETE', `/directory/room/${enc(alias)}`);
  expectSpecResponse(gone, 'deleteRoomAlias');
  expectMatrixError(gone, 404, 'M_NOT_FOUND');
  const missing = await call(undefined, 'GET', `/directory/room/${enc(alias)}`);
  expectSpecResponse(missing, 'getRoomIdByAlias');
  expectMatrixError(missing, 404, 'M_NOT_FOUND');
});
