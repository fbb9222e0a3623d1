// Server-side search, the user directory and profile visibility on a real node (issue 9
// items 3 and 5): client-server § "Server Side Search" (search.yaml), § "User directory"
// (users.yaml) and § "Profiles" ("Server behaviour"). Every response is checked against
// the spec's OpenAPI. The node limits profile look-ups (`user_directory.
// require_auth_for_profile_requests`, `limit_profile_requests_to_users_who_share_rooms`);
// `search_all_users` stays off, its default.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let dave: RegisteredUser;
let eve: RegisteredUser;
let txn = 0;
const enc = encodeURIComponent;

/** Room A: alice and bob, private, `shared` history. */
let roomA: string;
/** Room J: public, `joined` history; dave joins after the first message. */
let roomJ: string;
/** Room E: encrypted; its plaintext message must not be found. */
let roomE: string;
const ids: Record<string, string> = {};

const { client } = clientCalls(() => node.clientUrl);
async function say(user: RegisteredUser, roomId: string, body: string): Promise<string> {
  const res = await ok(client(user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body }));
  return res['event_id'] as string;
}
async function setName(user: RegisteredUser, name: string): Promise<void> {
  await ok(client(user, 'PUT', `/profile/${enc(user.userId)}/displayname`, { displayname: name }));
}
async function search(user: RegisteredUser, criteria: Json, nextBatch?: string): Promise<Json> {
  const res = await client(user, 'POST', `/search${nextBatch === undefined ? '' : `?next_batch=${enc(nextBatch)}`}`, {
    search_categories: { room_events: criteria },
  });
  expectSpecResponse(res, 'search');
  assert.equal(res.status, 200, res.text);
  return ((res.body as Json)['search_categories'] as Json)['room_events'] as Json;
}
const resultIds = (roomEvents: Json): string[] =>
  (roomEvents['results'] as Json[]).map((r) => (r['result'] as Json)['event_id'] as string);

before(async () => {
  [node] = (await startNodes(1, {
    // Full-text search is PostgreSQL's: on the server when one is configured, else PGlite.
    ...(testPostgresUrl() === undefined ? {} : { engine: 'postgres' as const }),
    configOverrides: {
      user_directory: { require_auth_for_profile_requests: true, limit_profile_requests_to_users_who_share_rooms: true },
    },
  })) as [TestNode];
  alice = await registerUser(node, 'alice', { displayName: 'Alice Liddell' });
  bob = await registerUser(node, 'bob', { displayName: 'Bobby Tables' });
  carol = await registerUser(node, 'carol', { displayName: 'Carol Stranger' });
  dave = await registerUser(node, 'dave', { displayName: 'Dave Liddell' });
  eve = await registerUser(node, 'eve', { displayName: 'Eve Hidden' });
  // Set explicitly: registration's `displayname` does not reach the profile (yet).
  for (const [user, name] of [[alice, 'Alice Liddell'], [bob, 'Bobby Tables'], [carol, 'Carol Stranger'], [dave, 'Dave Liddell'], [eve, 'Eve Hidden']] as const) {
    await setName(user, name);
  }

  roomA = (await ok(client(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [bob.userId], name: 'Garden watch' })))['room_id'] as string;
  await ok(client(bob, 'POST', `/rooms/${enc(roomA)}/join`, {}));
  ids['once'] = await say(alice, roomA, 'A martian landed in the garden');
  ids['thrice'] = await say(alice, roomA, 'Martians! Martians and more martians everywhere');
  ids['bob'] = await say(bob, roomA, 'peace with the martians, says bob');
  ids['other'] = await say(alice, roomA, 'nothing to see here');
  ids['redacted'] = await say(alice, roomA, 'martians secret to be redacted');
  await ok(client(alice, 'PUT', `/rooms/${enc(roomA)}/redact/${enc(ids['redacted'])}/t${++txn}`, {}));

  roomJ = (await ok(client(alice, 'POST', '/createRoom', {
    preset: 'public_chat',
    initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
  })))['room_id'] as string;
  ids['beforeDave'] = await say(alice, roomJ, 'martians plan before dave');
  await ok(client(dave, 'POST', `/rooms/${enc(roomJ)}/join`, {}));
  ids['afterDave'] = await say(alice, roomJ, 'martians news after dave');

  roomE = (await ok(client(alice, 'POST', '/createRoom', {
    preset: 'private_chat',
    initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
  })))['room_id'] as string;
  ids['encrypted'] = await say(alice, roomE, 'martians in an encrypted room');

  // Eve is in a private room of her own: nobody shares a room with her.
  await ok(client(eve, 'POST', '/createRoom', { preset: 'private_chat' }));
});
after(() => stopNodes(node === undefined ? [] : [node]));

describe('client-server § Server Side Search (POST /search)', () => {
  test('order_by recent: newest first, only the rooms and events the user may see', async () => {
    const res = await search(alice, { search_term: 'martians', order_by: 'recent' });
    assert.deepEqual(resultIds(res), [ids['afterDave'], ids['beforeDave'], ids['bob'], ids['thrice'], ids['once']]);
    assert.equal(res['count'], 5);
    assert.equal(res['next_batch'], undefined);
  });

  test('order_by rank (the default): the most relevant first, rank descending', async () => {
    const res = await search(alice, { search_term: 'martians', keys: ['content.body'], filter: { rooms: [roomA] } });
    const results = res['results'] as Json[];
    assert.equal(resultIds(res)[0], ids['thrice']);
    assert.deepEqual(new Set(resultIds(res)), new Set([ids['thrice'], ids['once'], ids['bob']]));
    const ranks = results.map((r) => r['rank'] as number);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => b - a));
  });

  test('a user not in a room never gets its events; redacted and encrypted events are not found', async () => {
    const stranger = await search(carol, { search_term: 'martians' });
    assert.deepEqual(stranger['results'], []);
    assert.equal(stranger['count'], 0);
    const all = resultIds(await search(alice, { search_term: 'martians' }));
    assert.ok(!all.includes(ids['redacted']!), 'redacted event found');
    assert.ok(!all.includes(ids['encrypted']!), 'event of an encrypted room found');
    assert.deepEqual(resultIds(await search(alice, { search_term: 'redacted' })), []);
  });

  test('history_visibility joined hides events before a later joiner joined', async () => {
    const res = await search(dave, { search_term: 'martians', order_by: 'recent' });
    assert.deepEqual(resultIds(res), [ids['afterDave']]);
    assert.equal(res['count'], 1, 'hidden events are not counted');
  });

  test('rooms the user has left are searched up to their leave, not after', async () => {
    const frank = await registerUser(node, 'frank');
    const room = (await ok(client(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [frank.userId] })))['room_id'] as string;
    await ok(client(frank, 'POST', `/rooms/${enc(room)}/join`, {}));
    const before = await say(alice, room, 'zeppelin one');
    await ok(client(frank, 'POST', `/rooms/${enc(room)}/leave`, {}));
    await say(alice, room, 'zeppelin two');
    assert.deepEqual(resultIds(await search(frank, { search_term: 'zeppelin' })), [before]);
    assert.equal((await search(alice, { search_term: 'zeppelin' }))['count'], 2);
  });

  test('highlights are the matched words; keys restrict where to look', async () => {
    const res = await search(alice, { search_term: 'martian', filter: { rooms: [roomA] } });
    const highlights = (res['highlights'] as string[]).map((h) => h.toLowerCase());
    assert.ok(highlights.includes('martians') && highlights.includes('martian'), JSON.stringify(res['highlights']));
    const names = await search(alice, { search_term: 'watch', keys: ['content.name'] });
    assert.equal(((names['results'] as Json[])[0]?.['result'] as Json)['type'], 'm.room.name');
    assert.deepEqual(resultIds(await search(alice, { search_term: 'watch', keys: ['content.body'] })), []);
  });

  test('event_context: events before and after, tokens, and the senders\' profiles', async () => {
    const res = await search(alice, {
      search_term: 'peace',
      event_context: { before_limit: 2, after_limit: 1, include_profile: true },
    });
    const [result] = res['results'] as Json[];
    assert.equal((result?.['result'] as Json)['event_id'], ids['bob']);
    const context = result?.['context'] as Json;
    // Newest first, as GET /context gives them.
    assert.deepEqual((context['events_before'] as Json[]).map((e) => e['event_id']), [ids['thrice'], ids['once']]);
    assert.deepEqual((context['events_after'] as Json[]).map((e) => e['event_id']), [ids['other']]);
    assert.equal(typeof context['start'], 'string');
    assert.equal(typeof context['end'], 'string');
    const profiles = context['profile_info'] as Record<string, Json>;
    assert.equal(profiles[bob.userId]?.['displayname'], 'Bobby Tables');
    assert.equal(profiles[alice.userId]?.['displayname'], 'Alice Liddell');
  });

  for (const orderBy of ['recent', 'rank'] as const) {
    test(`next_batch pages through every result once (order_by ${orderBy})`, async () => {
      const criteria = { search_term: 'martians', order_by: orderBy, filter: { limit: 2 } };
      const whole = resultIds(await search(alice, { ...criteria, filter: { limit: 50 } }));
      const seen: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await search(alice, criteria, token);
        assert.ok((res['results'] as Json[]).length <= 2);
        seen.push(...resultIds(res));
        token = res['next_batch'] as string | undefined;
        if (token === undefined) break;
      }
      assert.equal(token, undefined);
      assert.deepEqual(seen, whole);
      assert.equal(new Set(seen).size, seen.length);
    });
  }

  test('groupings by room_id and sender, with next_batch per group; include_state', async () => {
    const res = await search(alice, {
      search_term: 'martians',
      order_by: 'recent',
      filter: { limit: 3 },
      include_state: true,
      groupings: { group_by: [{ key: 'room_id' }, { key: 'sender' }] },
    });
    const groups = res['groups'] as Record<string, Record<string, Json>>;
    const byRoom = groups['room_id']!;
    assert.deepEqual(byRoom[roomJ]?.['results'], [ids['afterDave'], ids['beforeDave']]);
    assert.deepEqual(byRoom[roomA]?.['results'], [ids['bob']]);
    assert.equal(byRoom[roomJ]?.['order'], 0);
    assert.deepEqual(groups['sender']![bob.userId]?.['results'], [ids['bob']]);
    // A group's next_batch continues within that group only.
    const inRoomA = await search(
      alice,
      { search_term: 'martians', order_by: 'recent', filter: { limit: 3 }, groupings: { group_by: [{ key: 'room_id' }] } },
      byRoom[roomA]?.['next_batch'] as string,
    );
    assert.deepEqual(resultIds(inRoomA), [ids['thrice'], ids['once']]);
    const state = res['state'] as Record<string, Json[]>;
    assert.ok(state[roomA]?.some((e) => e['type'] === 'm.room.create'));
  });

  test('filter senders, not_senders and not_rooms', async () => {
    assert.deepEqual(resultIds(await search(alice, { search_term: 'martians', filter: { senders: [bob.userId] } })), [ids['bob']]);
    const notBob = resultIds(await search(alice, { search_term: 'martians', filter: { not_senders: [bob.userId], not_rooms: [roomJ] } }));
    assert.deepEqual(new Set(notBob), new Set([ids['once'], ids['thrice']]));
  });

  test('invalid requests are Matrix errors, never 500', async () => {
    const post = (body: unknown, query = '') => client(alice, 'POST', `/search${query}`, body);
    expectMatrixError(await post({}), 400, 'M_BAD_JSON');
    expectMatrixError(await post({ search_categories: { room_events: {} } }), 400, 'M_BAD_JSON');
    expectMatrixError(await post({ search_categories: { room_events: { search_term: 'x', order_by: 'oldest' } } }), 400, 'M_BAD_JSON');
    expectMatrixError(await post({ search_categories: { room_events: { search_term: 'x', keys: ['content.url'] } } }), 400, 'M_BAD_JSON');
    expectMatrixError(await post({ search_categories: { room_events: { search_term: 'x', filter: { limit: 'ten' } } } }), 400, 'M_BAD_JSON');
    expectMatrixError(await post({ search_categories: { room_events: { search_term: 'x', filter: { senders: 'bob' } } } }), 400, 'M_BAD_JSON');
    expectMatrixError(
      await post({ search_categories: { room_events: { search_term: 'x', event_context: { before_limit: -1 } } } }),
      400,
      'M_BAD_JSON',
    );
    expectMatrixError(await post({ search_categories: { room_events: { search_term: 'x' } } }, '?next_batch=bogus'), 400, 'M_INVALID_PARAM');
    const recent = await search(alice, { search_term: 'martians', order_by: 'recent', filter: { limit: 1 } });
    expectMatrixError(
      await post({ search_categories: { room_events: { search_term: 'martians', order_by: 'rank' } } }, `?next_batch=${enc(recent['next_batch'] as string)}`),
      400,
      'M_INVALID_PARAM',
    );
    expectMatrixError(await client(undefined, 'POST', '/search', { search_categories: {} }), 401, 'M_MISSING_TOKEN');
    for (const term of ['', 'the', '"unbalanced', '!!&&||', 'martians OR -peace', 'x'.repeat(5000)]) {
      await search(alice, { search_term: term });
    }
    expectMatrixError(await post({ search_categories: { room_events: { search_term: '\u0000' } } }), 400, 'M_BAD_JSON');
    await search(alice, { search_term: 'martians', groupings: { group_by: [{}] } });
    const none = await ok(post({ search_categories: {} }));
    assert.deepEqual(none, { search_categories: {} });
  });
});

describe('client-server § User directory (POST /user_directory/search)', () => {
  async function directory(user: RegisteredUser, body: Json): Promise<Json> {
    const res = await client(user, 'POST', '/user_directory/search', body);
    expectSpecResponse(res, 'searchUserDirectory');
    assert.equal(res.status, 200, res.text);
    return res.body as Json;
  }
  const userIds = (body: Json) => (body['results'] as Json[]).map((r) => r['user_id']);

  test('finds a co-member by display-name prefix, case-insensitively, with profile fields', async () => {
    const res = await directory(alice, { search_term: 'tab' });
    assert.deepEqual(res['results'], [{ user_id: bob.userId, display_name: 'Bobby Tables' }]);
    assert.equal(res['limited'], false);
    assert.deepEqual(userIds(await directory(alice, { search_term: 'BOBBY TA' })), [bob.userId]);
    assert.deepEqual(userIds(await directory(alice, { search_term: '@bob:' })), [bob.userId]);
    assert.deepEqual(userIds(await directory(alice, { search_term: 'obby' })), []);
  });

  test('a stranger is not found; members of public rooms are', async () => {
    assert.deepEqual(userIds(await directory(alice, { search_term: 'eve' })), []);
    assert.deepEqual(userIds(await directory(carol, { search_term: 'bobby' })), []);
    // Alice and Dave are joined to the public room J.
    assert.deepEqual(userIds(await directory(carol, { search_term: 'alice' })), [alice.userId]);
    assert.deepEqual(userIds(await directory(carol, { search_term: 'dave' })), [dave.userId]);
  });

  test('limit and limited; a display-name change is searchable at once; bad input is M_BAD_JSON', async () => {
    const limited = await directory(carol, { search_term: 'liddell', limit: 1 });
    assert.equal((limited['results'] as Json[]).length, 1);
    assert.equal(limited['limited'], true);
    await ok(client(bob, 'PUT', `/profile/${enc(bob.userId)}/displayname`, { displayname: 'Robert Droptables' }));
    assert.deepEqual(userIds(await directory(alice, { search_term: 'robert' })), [bob.userId]);
    await ok(client(bob, 'PUT', `/profile/${enc(bob.userId)}/displayname`, { displayname: 'Bobby Tables' }));
    expectMatrixError(await client(alice, 'POST', '/user_directory/search', {}), 400, 'M_BAD_JSON');
    expectMatrixError(await client(alice, 'POST', '/user_directory/search', { search_term: 'x', limit: 'ten' }), 400, 'M_BAD_JSON');
    expectMatrixError(await client(undefined, 'POST', '/user_directory/search', { search_term: 'x' }), 401, 'M_MISSING_TOKEN');
    for (const term of ['', '%_\\', 'ü', 'x'.repeat(5000)]) await directory(alice, { search_term: term, limit: 0 });
  });
});

describe('client-server § Profiles: Server behaviour (limited look-ups)', () => {
  test('require_auth_for_profile_requests: no token, 401 M_MISSING_TOKEN', async () => {
    expectMatrixError(await client(undefined, 'GET', `/profile/${enc(bob.userId)}`), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await client(undefined, 'GET', `/profile/${enc(bob.userId)}/displayname`), 401, 'M_MISSING_TOKEN');
  });

  test('users who share a room, users in public rooms and oneself are visible; others are 403', async () => {
    const shared = await client(alice, 'GET', `/profile/${enc(bob.userId)}`);
    expectSpecResponse(shared, 'getUserProfile');
    assert.equal((shared.body as Json)['displayname'], 'Bobby Tables');
    expectSpecResponse(await client(carol, 'GET', `/profile/${enc(alice.userId)}`), 'getUserProfile');
    expectSpecResponse(await client(eve, 'GET', `/profile/${enc(eve.userId)}/displayname`), 'getProfileField');
    expectMatrixError(await client(carol, 'GET', `/profile/${enc(eve.userId)}`), 403, 'M_FORBIDDEN');
    expectMatrixError(await client(carol, 'GET', `/profile/${enc(bob.userId)}/displayname`), 403, 'M_FORBIDDEN');
    // An unknown user looks the same as a hidden one.
    expectMatrixError(await client(carol, 'GET', `/profile/${enc(`@nobody:${node.serverName}`)}`), 403, 'M_FORBIDDEN');
  });

  test('leaving the shared room hides the profile and the directory entry', async () => {
    const leaver = await registerUser(node, 'leaver');
    await setName(leaver, 'Leaving Larry');
    const room = (await ok(client(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [leaver.userId] })))['room_id'] as string;
    await ok(client(leaver, 'POST', `/rooms/${enc(room)}/join`, {}));
    const found = await client(alice, 'POST', '/user_directory/search', { search_term: 'larry' });
    assert.deepEqual((found.body as Json)['results'], [{ user_id: leaver.userId, display_name: 'Leaving Larry' }]);
    assert.equal((await client(alice, 'GET', `/profile/${enc(leaver.userId)}`)).status, 200);
    await ok(client(leaver, 'POST', `/rooms/${enc(room)}/leave`, {}));
    const gone = await client(alice, 'POST', '/user_directory/search', { search_term: 'larry' });
    assert.deepEqual((gone.body as Json)['results'], []);
    expectMatrixError(await client(alice, 'GET', `/profile/${enc(leaver.userId)}`), 403, 'M_FORBIDDEN');
  });
});

test('the search index follower logged no failure', () => {
  assert.ok(!node.logs().includes('search indexing failed'), 'search indexing failed in the node log');
});
