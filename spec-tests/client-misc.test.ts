// Issue 9 item 6 on a real node: room upgrades (client-server § "Room Upgrades"), reporting
// content (§ "Reporting Content"), /timestamp_to_event (client and server-server), mutual
// rooms (§ "Mutual Rooms"), OpenID (§ "OpenID", server-server § "OpenID"), TURN
// (§ "Voice over IP"), the legacy /r0/ paths, and the third-party-ID routes Stoa answers
// without serving them (§ "Adding Account Administrative Contact Information",
// § "Third-party Networks"). Every response is checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSigningKeyFile } from '../src/crypto/signing-key.ts';
import { signRequest } from '../src/crypto/x-matrix.ts';
import { clientCalls, ok } from './rig/client-calls.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

const TURN_SECRET = 'turn-test-secret';
const TURN_URIS = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'];

let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let txn = 0;
const enc = encodeURIComponent;

const { client } = clientCalls(() => node.clientUrl);
async function send(user: RegisteredUser, roomId: string, content: Json = { msgtype: 'm.text', body: 'hi' }): Promise<string> {
  const body = await ok(client(user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, content));
  return body['event_id'] as string;
}
async function state(user: RegisteredUser, roomId: string, type: string, stateKey = ''): Promise<Json> {
  return ok(client(user, 'GET', `/rooms/${enc(roomId)}/state/${type}/${enc(stateKey)}`));
}
async function createRoom(user: RegisteredUser, body: Json): Promise<string> {
  return (await ok(client(user, 'POST', '/createRoom', body)))['room_id'] as string;
}

before(async () => {
  const nodes = await startNodes(1, { configOverrides: { turn: { uris: TURN_URIS, shared_secret: TURN_SECRET, ttl_seconds: 3600 } } });
  node = nodes[0]!;
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  carol = await registerUser(node, 'carol');
});
after(() => stopNodes(node === undefined ? [] : [node]));

describe('client-server § Room Upgrades', () => {
  test('POST /rooms/{roomId}/upgrade: tombstone, predecessor, state copied, aliases and listing moved, old room restricted', async () => {
    const server = node.serverName;
    const alias = `#upgrade-me:${server}`;
    const oldRoom = await createRoom(alice, {
      preset: 'public_chat',
      visibility: 'public',
      room_version: '10',
      room_alias_name: 'upgrade-me',
      name: 'Before the upgrade',
      topic: 'a topic',
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await ok(client(bob, 'POST', `/rooms/${enc(oldRoom)}/join`, {}));
    await ok(client(alice, 'POST', `/rooms/${enc(oldRoom)}/ban`, { user_id: carol.userId, reason: 'spam' }));
    // Bob's settings for the old room, to follow him into the new one.
    await ok(client(bob, 'PUT', `/user/${enc(bob.userId)}/rooms/${enc(oldRoom)}/tags/m.favourite`, { order: 0.5 }));
    await ok(client(bob, 'PUT', `/pushrules/global/room/${enc(oldRoom)}`, { actions: [] }));
    const oldLevels = await state(alice, oldRoom, 'm.room.power_levels');
    const lastBefore = await send(alice, oldRoom);

    // Bob (power 0) may not send m.room.tombstone.
    expectMatrixError(await client(bob, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, { new_version: '11' }), 403, 'M_FORBIDDEN');

    const res = await client(alice, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, { new_version: '11' });
    expectSpecResponse(res, 'upgradeRoom');
    const newRoom = (res.body as Json)['replacement_room'] as string;
    assert.notEqual(newRoom, oldRoom);

    // Step 5: the old room is tombstoned, pointing at the new one.
    const tombstone = await state(bob, oldRoom, 'm.room.tombstone');
    assert.equal(tombstone['replacement_room'], newRoom);
    // Step 2: predecessor, the new version.
    const create = await state(alice, newRoom, 'm.room.create');
    assert.deepEqual(create['predecessor'], { room_id: oldRoom, event_id: lastBefore });
    assert.equal(create['room_version'], '11');
    // Step 3: the transferable state, and power levels restored to the old room's.
    assert.equal((await state(alice, newRoom, 'm.room.name'))['name'], 'Before the upgrade');
    assert.equal((await state(alice, newRoom, 'm.room.topic'))['topic'], 'a topic');
    assert.equal((await state(alice, newRoom, 'm.room.join_rules'))['join_rule'], 'public');
    assert.equal((await state(alice, newRoom, 'm.room.encryption'))['algorithm'], 'm.megolm.v1.aes-sha2');
    assert.equal((await state(alice, newRoom, 'm.room.history_visibility'))['history_visibility'], 'shared');
    assert.deepEqual(await state(alice, newRoom, 'm.room.power_levels'), oldLevels);
    assert.equal((await state(alice, newRoom, 'm.room.canonical_alias'))['alias'], alias);
    assert.equal((await state(alice, newRoom, 'm.room.member', carol.userId))['membership'], 'ban');
    // Step 4: the alias now names the new room; the directory listing moved with it.
    const resolved = await client(bob, 'GET', `/directory/room/${enc(alias)}`);
    expectSpecResponse(resolved, 'getRoomIdByAlias');
    assert.equal((resolved.body as Json)['room_id'], newRoom);
    const listedNew = await client(undefined, 'GET', `/directory/list/room/${enc(newRoom)}`);
    expectSpecResponse(listedNew, 'getRoomVisibilityOnDirectory');
    assert.equal((listedNew.body as Json)['visibility'], 'public');
    assert.equal((await ok(client(undefined, 'GET', `/directory/list/room/${enc(oldRoom)}`)))['visibility'], 'private');
    // Step 6: ordinary members can no longer talk or invite in the old room.
    const restricted = await state(alice, oldRoom, 'm.room.power_levels');
    assert.ok((restricted['events_default'] as number) >= 50);
    assert.ok((restricted['invite'] as number) >= 50);
    expectMatrixError(
      await client(bob, 'PUT', `/rooms/${enc(oldRoom)}/send/m.room.message/late${++txn}`, { msgtype: 'm.text', body: 'late' }),
      403,
      'M_FORBIDDEN',
    );
    // Members of the old room can follow it; a banned user cannot.
    await ok(client(bob, 'POST', `/rooms/${enc(newRoom)}/join`, {}));
    await send(bob, newRoom);
    // "When a user joins the new room, the server should automatically transfer ... tags,
    // notifications": copied after the join commits, so asked until there (or give up).
    let tags: Json = {};
    let rule: HttpResponse | undefined;
    for (let i = 0; i < 100 && (tags['m.favourite'] === undefined || rule?.status !== 200); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      tags = (await ok(client(bob, 'GET', `/user/${enc(bob.userId)}/rooms/${enc(newRoom)}/tags`)))['tags'] as Json;
      rule = await client(bob, 'GET', `/pushrules/global/room/${enc(newRoom)}`);
    }
    assert.deepEqual(tags, { 'm.favourite': { order: 0.5 } });
    assert.ok(rule !== undefined);
    expectSpecResponse(rule, 'getPushRule');
    assert.deepEqual((rule.body as Json)['actions'], []);
    assert.equal((await client(carol, 'POST', `/rooms/${enc(newRoom)}/join`, {})).status, 403);
    // A room is upgraded once.
    expectMatrixError(await client(alice, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, { new_version: '11' }), 403, 'M_FORBIDDEN');
  });

  test('POST /rooms/{roomId}/upgrade to v12 with additional_creators: creators not listed in power levels', async () => {
    const oldRoom = await createRoom(alice, { preset: 'private_chat', room_version: '11', invite: [bob.userId] });
    await ok(client(bob, 'POST', `/rooms/${enc(oldRoom)}/join`, {}));
    const res = await client(alice, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, { new_version: '12', additional_creators: [bob.userId] });
    expectSpecResponse(res, 'upgradeRoom');
    const newRoom = (res.body as Json)['replacement_room'] as string;
    const create = await state(alice, newRoom, 'm.room.create');
    assert.equal(create['room_version'], '12');
    assert.deepEqual(create['additional_creators'], [bob.userId]);
    assert.equal((create['predecessor'] as Json)['room_id'], oldRoom);
    const users = ((await state(alice, newRoom, 'm.room.power_levels'))['users'] ?? {}) as Json;
    assert.equal(users[alice.userId], undefined);
    assert.equal(users[bob.userId], undefined);
    // Private room: Bob needs an invite, which Alice (a creator) can send.
    await ok(client(alice, 'POST', `/rooms/${enc(newRoom)}/invite`, { user_id: bob.userId }));
    await ok(client(bob, 'POST', `/rooms/${enc(newRoom)}/join`, {}));
  });

  test('POST /rooms/{roomId}/upgrade: unknown version → 400 M_UNSUPPORTED_ROOM_VERSION; not in the room → 403; no new_version → 400', async () => {
    const room = await createRoom(alice, { preset: 'private_chat' });
    const unsupported = await client(alice, 'POST', `/rooms/${enc(room)}/upgrade`, { new_version: '99' });
    expectSpecResponse(unsupported, 'upgradeRoom');
    expectMatrixError(unsupported, 400, 'M_UNSUPPORTED_ROOM_VERSION');
    expectMatrixError(await client(carol, 'POST', `/rooms/${enc(room)}/upgrade`, { new_version: '11' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await client(alice, 'POST', `/rooms/${enc(room)}/upgrade`, {}), 400, 'M_BAD_JSON');
  });

  test('POST /rooms/{roomId}/upgrade: two concurrent upgrades make one replacement room', async () => {
    const room = await createRoom(alice, { preset: 'private_chat' });
    const results = await Promise.all([1, 2].map(() => client(alice, 'POST', `/rooms/${enc(room)}/upgrade`, { new_version: '11' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 403]);
    const winner = results.find((r) => r.status === 200)!;
    assert.equal((await state(alice, room, 'm.room.tombstone'))['replacement_room'], (winner.body as Json)['replacement_room']);
  });
});

describe('client-server § Reporting Content', () => {
  let room: string;
  let eventId: string;
  before(async () => {
    room = await createRoom(alice, { preset: 'public_chat' });
    await ok(client(bob, 'POST', `/rooms/${enc(room)}/join`, {}));
    eventId = await send(alice, room, { msgtype: 'm.text', body: 'offensive' });
  });

  test('POST /rooms/{roomId}/report/{eventId}: a joined member reports a visible event', async () => {
    const res = await client(bob, 'POST', `/rooms/${enc(room)}/report/${enc(eventId)}`, { reason: 'rude', score: -100 });
    expectSpecResponse(res, 'reportEvent');
    assert.deepEqual(res.body, {});
    expectSpecResponse(await client(bob, 'POST', `/rooms/${enc(room)}/report/${enc(eventId)}`, {}), 'reportEvent');
  });

  test('POST /rooms/{roomId}/report/{eventId}: not joined, unknown event, event of another room → 404 M_NOT_FOUND', async () => {
    const notJoined = await client(carol, 'POST', `/rooms/${enc(room)}/report/${enc(eventId)}`, { reason: 'x' });
    expectSpecResponse(notJoined, 'reportEvent');
    expectMatrixError(notJoined, 404, 'M_NOT_FOUND');
    expectMatrixError(await client(bob, 'POST', `/rooms/${enc(room)}/report/${enc('$nope')}`, { reason: 'x' }), 404, 'M_NOT_FOUND');
    const other = await createRoom(bob, { preset: 'private_chat' });
    expectMatrixError(await client(bob, 'POST', `/rooms/${enc(other)}/report/${enc(eventId)}`, { reason: 'x' }), 404, 'M_NOT_FOUND');
  });

  test('POST /rooms/{roomId}/report: no membership needed (v1.13); unknown room → 404; reason required', async () => {
    const res = await client(carol, 'POST', `/rooms/${enc(room)}/report`, { reason: 'whole room is spam' });
    expectSpecResponse(res, 'reportRoom');
    const unknown = await client(carol, 'POST', `/rooms/${enc(`!unknown:${node.serverName}`)}/report`, { reason: 'x' });
    expectSpecResponse(unknown, 'reportRoom');
    expectMatrixError(unknown, 404, 'M_NOT_FOUND');
    expectMatrixError(await client(carol, 'POST', `/rooms/${enc(room)}/report`, {}), 400, 'M_BAD_JSON');
  });

  test('POST /users/{userId}/report: any user (v1.14); unknown local user → 404', async () => {
    const res = await client(carol, 'POST', `/users/${enc(alice.userId)}/report`, { reason: 'impersonation' });
    expectSpecResponse(res, 'reportUser');
    const unknown = await client(carol, 'POST', `/users/${enc(`@ghost:${node.serverName}`)}/report`, { reason: 'x' });
    expectSpecResponse(unknown, 'reportUser');
    expectMatrixError(unknown, 404, 'M_NOT_FOUND');
    expectMatrixError(await client(carol, 'POST', `/users/${enc('not-a-user')}/report`, { reason: 'x' }), 400, 'M_INVALID_PARAM');
  });
});

describe('client-server § GET /rooms/{roomId}/timestamp_to_event, server-server § GET /timestamp_to_event', () => {
  let room: string;
  const events: Array<{ id: string; ts: number }> = [];
  before(async () => {
    room = await createRoom(alice, { preset: 'private_chat' });
    for (let i = 0; i < 3; i++) {
      const id = await send(alice, room, { msgtype: 'm.text', body: `m${i}` });
      const event = await ok(client(alice, 'GET', `/rooms/${enc(room)}/event/${enc(id)}`));
      events.push({ id, ts: event['origin_server_ts'] as number });
    }
  });

  const lookup = (user: RegisteredUser, query: string) => client(user, 'GET', `/rooms/${enc(room)}/timestamp_to_event?${query}`, undefined, 'v1');

  test('finds the event at or after ts (f) and at or before ts (b)', async () => {
    const last = events.at(-1)!;
    const backward = await lookup(alice, `ts=${last.ts + 60_000}&dir=b`);
    expectSpecResponse(backward, 'client-server:getEventByTimestamp');
    assert.deepEqual(backward.body, { event_id: last.id, origin_server_ts: last.ts });
    const forward = await lookup(alice, `ts=${last.ts}&dir=f`);
    expectSpecResponse(forward, 'client-server:getEventByTimestamp');
    assert.equal((forward.body as Json)['origin_server_ts'], last.ts);
    // Before the room existed, backwards: nothing.
    const none = await lookup(alice, `ts=1000&dir=b`);
    expectSpecResponse(none, 'client-server:getEventByTimestamp');
    expectMatrixError(none, 404, 'M_NOT_FOUND');
    expectMatrixError(await lookup(alice, `ts=${last.ts + 60_000}&dir=f`), 404, 'M_NOT_FOUND');
  });

  test('bad or missing ts/dir → 400; not in the room → 403', async () => {
    expectMatrixError(await lookup(alice, 'ts=1'), 400, 'M_MISSING_PARAM');
    expectMatrixError(await lookup(alice, 'dir=f'), 400, 'M_MISSING_PARAM');
    expectMatrixError(await lookup(alice, 'ts=abc&dir=f'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await lookup(alice, 'ts=1&dir=x'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await lookup(carol, 'ts=1&dir=f'), 403, 'M_FORBIDDEN');
  });

  test('federation: an X-Matrix signed request is answered; an unsigned one is 401', async () => {
    const keys = parseSigningKeyFile(await readFile(join(node.dataDir, 'signing.key'), 'utf8'));
    const key = keys[0]!;
    const last = events.at(-1)!;
    const uri = `/_matrix/federation/v1/timestamp_to_event/${enc(room)}?ts=${last.ts + 60_000}&dir=b`;
    // Signed as the node itself: its users are in the room, and its key needs no fetching.
    const authorization = signRequest({ method: 'GET', uri, origin: node.serverName, destination: node.serverName, content: undefined }, key);
    const res = await request(`${node.federationUrl}${uri}`, { headers: { Authorization: authorization } });
    expectSpecResponse(res, 'server-server:getEventByTimestamp');
    assert.deepEqual(res.body, { event_id: last.id, origin_server_ts: last.ts });
    expectMatrixError(await request(`${node.federationUrl}${uri}`), 401, 'M_UNAUTHORIZED');
  });
});

describe('client-server § Mutual Rooms', () => {
  test('GET /v1/mutual_rooms and the MSC2666 unstable path list rooms both users joined', async () => {
    const shared = await createRoom(alice, { preset: 'public_chat' });
    await ok(client(carol, 'POST', `/rooms/${enc(shared)}/join`, {}));
    await createRoom(alice, { preset: 'private_chat' });
    const res = await client(carol, 'GET', `/mutual_rooms?user_id=${enc(alice.userId)}`, undefined, 'v1');
    expectSpecResponse(res, 'getMutualRooms');
    const body = res.body as Json;
    assert.ok((body['joined'] as string[]).includes(shared));
    assert.equal(body['count'], (body['joined'] as string[]).length);
    const unstable = await client(carol, 'GET', `/user/mutual_rooms?user_id=${enc(alice.userId)}`, undefined, 'unstable/uk.half-shot.msc2666');
    assert.equal(unstable.status, 200);
    assert.deepEqual(unstable.body, body);
    const nobody = await client(carol, 'GET', `/mutual_rooms?user_id=${enc(`@ghost:${node.serverName}`)}`, undefined, 'v1');
    expectSpecResponse(nobody, 'getMutualRooms');
    assert.deepEqual(nobody.body, { joined: [], count: 0 });
  });

  test('GET /v1/mutual_rooms: own ID, bad ID, bad token → 400', async () => {
    const v1 = (query: string) => client(carol, 'GET', `/mutual_rooms?${query}`, undefined, 'v1');
    const own = await v1(`user_id=${enc(carol.userId)}`);
    expectSpecResponse(own, 'getMutualRooms');
    expectMatrixError(own, 400, 'M_INVALID_PARAM');
    expectMatrixError(await v1('user_id=nope'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await v1(`user_id=${enc(alice.userId)}&from=garbage`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await v1(''), 400, 'M_MISSING_PARAM');
  });
});

describe('client-server § OpenID, server-server § OpenID', () => {
  test('POST /user/{userId}/openid/request_token → a token /openid/userinfo exchanges for the user ID (no X-Matrix)', async () => {
    const res = await client(alice, 'POST', `/user/${enc(alice.userId)}/openid/request_token`, {});
    expectSpecResponse(res, 'requestOpenIdToken');
    const token = res.body as Json;
    assert.equal(token['token_type'], 'Bearer');
    assert.equal(token['matrix_server_name'], node.serverName);
    assert.equal(token['expires_in'], 3600);
    const info = await request(`${node.federationUrl}/_matrix/federation/v1/openid/userinfo?access_token=${enc(token['access_token'] as string)}`);
    expectSpecResponse(info, 'exchangeOpenIdToken');
    assert.deepEqual(info.body, { sub: alice.userId });
    // The OpenID token is not an access token.
    expectMatrixError(await request(`${node.clientUrl}/_matrix/client/v3/account/whoami?access_token=${enc(token['access_token'] as string)}`), 401, 'M_UNKNOWN_TOKEN');
  });

  test('unknown or missing OpenID token → 401; a token for another user → 403', async () => {
    const unknown = await request(`${node.federationUrl}/_matrix/federation/v1/openid/userinfo?access_token=nope`);
    expectSpecResponse(unknown, 'exchangeOpenIdToken');
    expectMatrixError(unknown, 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await request(`${node.federationUrl}/_matrix/federation/v1/openid/userinfo`), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await client(alice, 'POST', `/user/${enc(bob.userId)}/openid/request_token`, {}), 403, 'M_FORBIDDEN');
  });
});

describe('client-server § Voice over IP: GET /voip/turnServer', () => {
  test('coturn REST credentials: username <expiry>:<user_id>, password base64(HMAC-SHA1(secret, username))', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await client(bob, 'GET', '/voip/turnServer');
    expectSpecResponse(res, 'getTurnServer');
    const body = res.body as { username: string; password: string; uris: string[]; ttl: number };
    assert.deepEqual(body.uris, TURN_URIS);
    assert.equal(body.ttl, 3600);
    const [expiry, ...rest] = body.username.split(':');
    assert.equal(rest.join(':'), bob.userId);
    assert.ok(Number(expiry) >= before + 3600 && Number(expiry) <= Math.floor(Date.now() / 1000) + 3600);
    assert.equal(body.password, createHmac('sha1', TURN_SECRET).update(body.username).digest('base64'));
    expectMatrixError(await client(undefined, 'GET', '/voip/turnServer'), 401, 'M_MISSING_TOKEN');
  });
});

describe('legacy /_matrix/client/r0 paths', () => {
  test('login, sync and send under r0 behave as under v3', async () => {
    const login = await request(`${node.clientUrl}/_matrix/client/r0/login`, {
      method: 'POST',
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: bob.password },
    });
    expectSpecResponse(login, 'login');
    const r0Bob: RegisteredUser = { ...bob, accessToken: (login.body as Json)['access_token'] as string };
    const room = await createRoom(alice, { preset: 'public_chat' });
    await ok(client(r0Bob, 'POST', `/rooms/${enc(room)}/join`, {}, 'r0'));
    const sent = await client(r0Bob, 'PUT', `/rooms/${enc(room)}/send/m.room.message/r0-${++txn}`, { msgtype: 'm.text', body: 'old client' }, 'r0');
    expectSpecResponse(sent, 'sendMessage');
    const sync = await client(r0Bob, 'GET', '/sync', undefined, 'r0');
    expectSpecResponse(sync, 'sync');
    const joined = (((sync.body as Json)['rooms'] as Json)['join'] as Json)[room] as Json;
    const timeline = (joined['timeline'] as Json)['events'] as Json[];
    assert.ok(timeline.some((e) => e['event_id'] === (sent.body as Json)['event_id']));
  });

  test('endpoints added after r0 are v3 only; /versions lists v1.x', async () => {
    expectMatrixError(await client(carol, 'POST', `/users/${enc(alice.userId)}/report`, { reason: 'x' }, 'r0'), 404, 'M_UNRECOGNIZED');
    const versions = await request(`${node.clientUrl}/_matrix/client/versions`);
    expectSpecResponse(versions, 'getVersions');
    assert.ok(((versions.body as Json)['versions'] as string[]).includes('v1.19'));
  });
});

describe('client-server § Adding Account Administrative Contact Information, § Third-party Networks', () => {
  test('GET /account/3pid: no third-party identifiers', async () => {
    const res = await client(alice, 'GET', '/account/3pid');
    expectSpecResponse(res, 'getAccount3PIDs');
    assert.deepEqual(res.body, { threepids: [] });
  });

  test('requestToken routes → 403 M_THREEPID_DENIED', async () => {
    const email = { client_secret: 'secret', email: 'a@example.org', send_attempt: 1 };
    const msisdn = { client_secret: 'secret', country: 'GB', phone_number: '07700900000', send_attempt: 1 };
    for (const [path, body, operationId] of [
      ['/register/email/requestToken', email, 'requestTokenToRegisterEmail'],
      ['/register/msisdn/requestToken', msisdn, 'requestTokenToRegisterMSISDN'],
      ['/account/3pid/email/requestToken', email, 'requestTokenTo3PIDEmail'],
      ['/account/3pid/msisdn/requestToken', msisdn, 'requestTokenTo3PIDMSISDN'],
      ['/account/password/email/requestToken', email, 'requestTokenToResetPasswordEmail'],
      ['/account/password/msisdn/requestToken', msisdn, 'requestTokenToResetPasswordMSISDN'],
    ] as const) {
      const res = await client(undefined, 'POST', path, body);
      expectSpecResponse(res, operationId);
      expectMatrixError(res, 403, 'M_THREEPID_DENIED');
    }
  });

  test('adding, binding, deleting and unbinding 3PIDs', async () => {
    const add = await client(alice, 'POST', '/account/3pid/add', { client_secret: 's', sid: '1' });
    expectMatrixError(add, 403, 'M_THREEPID_AUTH_FAILED');
    const legacy = await client(alice, 'POST', '/account/3pid', { three_pid_creds: { client_secret: 's', sid: '1' } });
    expectSpecResponse(legacy, 'post3PIDs');
    expectMatrixError(legacy, 403, 'M_THREEPID_AUTH_FAILED');
    const del = await client(alice, 'POST', '/account/3pid/delete', { medium: 'email', address: 'a@example.org' });
    expectSpecResponse(del, 'delete3pidFromAccount');
    assert.deepEqual(del.body, { id_server_unbind_result: 'no-support' });
    const unbind = await client(alice, 'POST', '/account/3pid/unbind', { medium: 'email', address: 'a@example.org' });
    expectSpecResponse(unbind, 'unbind3pidFromAccount');
    expectMatrixError(await client(alice, 'POST', '/account/3pid/delete', { medium: 'email' }), 400, 'M_BAD_JSON');
    // Synapse's submitToken pages are not routes here.
    expectMatrixError(await client(undefined, 'POST', '/account/3pid/email/submitToken', {}), 404, 'M_UNRECOGNIZED');
  });

  test('third-party networks: no protocols; lookups find nothing', async () => {
    const protocols = await client(alice, 'GET', '/thirdparty/protocols');
    expectSpecResponse(protocols, 'getProtocols');
    assert.deepEqual(protocols.body, {});
    const protocol = await client(alice, 'GET', '/thirdparty/protocol/irc');
    expectSpecResponse(protocol, 'getProtocolMetadata');
    expectMatrixError(protocol, 404, 'M_NOT_FOUND');
    expectMatrixError(await client(alice, 'GET', '/thirdparty/user/irc?nick=x'), 404, 'M_NOT_FOUND');
    expectMatrixError(await client(alice, 'GET', '/thirdparty/location/irc'), 404, 'M_NOT_FOUND');
    const users = await client(alice, 'GET', `/thirdparty/user?userid=${enc(alice.userId)}`);
    expectSpecResponse(users, 'queryUserByID');
    assert.deepEqual(users.body, []);
    const locations = await client(alice, 'GET', `/thirdparty/location?alias=${enc(`#x:${node.serverName}`)}`);
    expectSpecResponse(locations, 'queryLocationByAlias');
    assert.deepEqual(locations.body, []);
  });
});
