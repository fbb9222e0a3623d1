// The room-read endpoints in process, over a real Roomserver on every engine: client-server
// § "Getting events for a room" (/messages, /event, /state, /members, /joined_members),
// § "Event context", § "Room History Visibility" (who reads what), § "Room event format".
// Response shapes are checked against the spec's OpenAPI in spec-tests/rooms-read.test.ts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Requester } from '../../../http/define-endpoint.ts';
import { startApp, type RunningApp } from '../../../http/testing.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { localRoomserver, TestKeyring } from '../../../roomserver/testing.ts';
import { describeEngines } from '../../../storage/testing.ts';
import { roomsReadEndpoints } from './index.ts';

const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';
const CAROL = '@carol:local.test';
const DAVE = '@dave:local.test';
const TOKENS: Record<string, Requester> = {
  alice: { userId: ALICE, deviceId: 'ALICEDEV', isGuest: false },
  bob: { userId: BOB, deviceId: 'BOBDEV', isGuest: false },
  carol: { userId: CAROL, deviceId: 'CAROLDEV', isGuest: false },
  dave: { userId: DAVE, deviceId: 'DAVEDEV', isGuest: false },
};

interface Res {
  readonly status: number;
  readonly body: unknown;
}

function publicRoom(visibility: string): Array<{ type: string; stateKey: string; content: JsonObject }> {
  return [
    { type: 'm.room.power_levels', stateKey: '', content: { users: {}, users_default: 0, invite: 0 } },
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: visibility } },
  ];
}

function expectMatrixError(res: Res, status: number, errcode: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal((res.body as JsonObject)['errcode'], errcode);
}

function bodies(res: Res): JsonObject[] {
  const body = res.body as JsonObject;
  return (body['chunk'] as JsonObject[] | undefined) ?? [];
}

describeEngines('rooms-read endpoints', (getDb) => {
  let rs: Roomserver;
  let app: RunningApp;
  let now = 1_800_000_000_000;

  async function get(token: string, path: string): Promise<Res> {
    const res = await fetch(`${app.url}/_matrix/client/v3${path}`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.json() };
  }
  const enc = encodeURIComponent;
  const say = async (roomId: string, sender: string, body: string, txn?: { txnId: string; deviceId: string }) =>
    (await rs.sendEvent({ roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body }, ...(txn ?? {}) })).eventId;

  // Room "shared": alice talks, bob joins, talks, leaves, alice talks on.
  let shared: string;
  const sharedIds: Record<string, string> = {};
  before(async () => {
    rs = localRoomserver(getDb(), new TestKeyring(), () => now);
    app = await startApp({
      endpoints: roomsReadEndpoints({ roomserver: rs, clock: () => now + 5000 }),
      accessTokens: { verify: async (token) => TOKENS[token] },
    });
    shared = (await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoom('shared') })).roomId;
    for (const n of [1, 2, 3, 4, 5]) sharedIds[`m${n}`] = await say(shared, ALICE, `m${n}`, n === 1 ? { txnId: 'txn-m1', deviceId: 'ALICEDEV' } : undefined);
    sharedIds['topic1'] = (await rs.sendEvent({ roomId: shared, sender: ALICE, type: 'm.room.topic', stateKey: '', content: { topic: 'first' } })).eventId;
    sharedIds['bobJoin'] = (await rs.setMembership({ roomId: shared, sender: BOB, target: BOB, membership: 'join' })).eventId;
    sharedIds['b1'] = await say(shared, BOB, 'b1');
    sharedIds['m6'] = await say(shared, ALICE, 'm6');
    sharedIds['bobLeave'] = (await rs.setMembership({ roomId: shared, sender: BOB, target: BOB, membership: 'leave' })).eventId;
    sharedIds['m7'] = await say(shared, ALICE, 'm7 (after bob left)');
    sharedIds['topic2'] = (await rs.sendEvent({ roomId: shared, sender: ALICE, type: 'm.room.topic', stateKey: '', content: { topic: 'second' } })).eventId;
    sharedIds['redaction'] = (await rs.sendEvent({ roomId: shared, sender: ALICE, type: 'm.room.redaction', content: { redacts: sharedIds['m2']! }, redacts: sharedIds['m2']! })).eventId;
  });
  after(async () => {
    await app?.close();
  });

  test('§ GET /messages: backward to the start and forward again, with from/to/limit', async () => {
    const backward: JsonObject[] = [];
    let from: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await get('alice', `/rooms/${enc(shared)}/messages?dir=b&limit=3${from === undefined ? '' : `&from=${from}`}`);
      assert.equal(res.status, 200);
      assert.equal(res.status, 200);
      const body = res.body as JsonObject;
      if (from !== undefined) assert.equal(body['start'], from);
      assert.ok(bodies(res).length <= 3);
      backward.push(...bodies(res));
      pages++;
      if (body['end'] === undefined) break;
      from = body['end'] as string;
      assert.ok(pages < 20, 'pagination must end');
    }
    const ids = backward.map((e) => e['event_id']);
    assert.equal(backward.at(-1)?.['type'], 'm.room.create', 'paginating back reaches the start of the room');
    assert.equal(ids[0], sharedIds['redaction']);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');

    const forward: JsonObject[] = [];
    let token: string | undefined;
    for (let i = 0; i < 20; i++) {
      const res = await get('alice', `/rooms/${enc(shared)}/messages?dir=f&limit=4${token === undefined ? '' : `&from=${token}`}`);
      assert.equal(res.status, 200);
      forward.push(...bodies(res));
      const end = (res.body as JsonObject)['end'];
      if (end === undefined) break;
      token = end as string;
    }
    assert.deepEqual(forward.map((e) => e['event_id']), [...ids].reverse());

    // `to` bounds the page: backward from the newest, stopping at the token after m3.
    const toM3 = await get('alice', `/rooms/${enc(shared)}/messages?dir=f&limit=3`);
    const afterThree = (toM3.body as JsonObject)['end'] as string;
    const bounded = await get('alice', `/rooms/${enc(shared)}/messages?dir=b&limit=100&to=${afterThree}`);
    assert.equal(bounded.status, 200);
    assert.equal(bodies(bounded).length, ids.length - 3);
    assert.equal((bounded.body as JsonObject)['end'], undefined);
  });

  test('§ GET /messages: a RoomEventFilter (types, not_senders, contains_url) and lazy-loaded members', async () => {
    const filter = enc(JSON.stringify({ types: ['m.room.message'], not_senders: [BOB], lazy_load_members: true }));
    const res = await get('alice', `/rooms/${enc(shared)}/messages?dir=b&limit=50&filter=${filter}`);
    assert.equal(res.status, 200);
    const chunk = bodies(res);
    assert.ok(chunk.length >= 6);
    assert.ok(chunk.every((e) => e['type'] === 'm.room.message' && e['sender'] === ALICE));
    const state = (res.body as JsonObject)['state'] as JsonObject[];
    assert.deepEqual(state.map((e) => e['state_key']), [ALICE]);

    const urls = await get('alice', `/rooms/${enc(shared)}/messages?dir=b&filter=${enc('{"contains_url":true}')}`);
    assert.deepEqual(bodies(urls), []);
  });

  test('§ GET /messages: bad parameters are 400s', async () => {
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/messages`), 400, 'M_MISSING_PARAM');
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/messages?dir=x`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/messages?dir=b&from=bogus`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/messages?dir=b&limit=-1`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/messages?dir=b&filter=%7B`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await get('alice', `/rooms/not-a-room/messages?dir=b`), 400, 'M_INVALID_PARAM');
  });

  test('§ Room History Visibility: a user who left reads up to their leave, no further', async () => {
    const res = await get('bob', `/rooms/${enc(shared)}/messages?dir=b&limit=100`);
    assert.equal(res.status, 200);
    const ids = bodies(res).map((e) => e['event_id']);
    assert.equal(ids[0], sharedIds['bobLeave']);
    for (const hidden of ['m7', 'topic2', 'redaction']) assert.ok(!ids.includes(sharedIds[hidden]), hidden);
    // shared: the history before bob joined is his, since he joined after it.
    for (const seen of ['m1', 'm5', 'bobJoin', 'b1', 'm6']) assert.ok(ids.includes(sharedIds[seen]), seen);
    // A token beyond the leave does not help.
    const later = await get('bob', `/rooms/${enc(shared)}/messages?dir=f&from=s0&limit=100`);
    assert.ok(!bodies(later).some((e) => e['event_id'] === sharedIds['m7']));
    expectMatrixError(await get('bob', `/rooms/${enc(shared)}/event/${enc(sharedIds['m7']!)}`), 404, 'M_NOT_FOUND');
    const own = await get('bob', `/rooms/${enc(shared)}/event/${enc(sharedIds['b1']!)}`);
    assert.equal(own.status, 200);
  });

  test('§ GET /state and /state/{type}/{key}: the state when the user left', async () => {
    const bobState = await get('bob', `/rooms/${enc(shared)}/state`);
    assert.equal(bobState.status, 200);
    assert.equal(bobState.status, 200);
    const topic = (bobState.body as JsonObject[]).find((e) => e['type'] === 'm.room.topic');
    assert.deepEqual(topic?.['content'], { topic: 'first' });
    const bobTopic = await get('bob', `/rooms/${enc(shared)}/state/m.room.topic/`);
    assert.equal(bobTopic.status, 200);
    assert.deepEqual(bobTopic.body, { topic: 'first' });
    const bobTopicNoSlash = await get('bob', `/rooms/${enc(shared)}/state/m.room.topic`);
    assert.deepEqual(bobTopicNoSlash.body, { topic: 'first' });

    const aliceTopic = await get('alice', `/rooms/${enc(shared)}/state/m.room.topic/?format=event`);
    assert.equal(aliceTopic.status, 200);
    const event = aliceTopic.body as JsonObject;
    assert.deepEqual(event['content'], { topic: 'second' });
    const unsigned = event['unsigned'] as JsonObject;
    assert.deepEqual(unsigned['prev_content'], { topic: 'first' });
    assert.equal(unsigned['replaces_state'], sharedIds['topic1']);
    assert.equal(unsigned['age'], 5000);

    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/state/m.room.name/`), 404, 'M_NOT_FOUND');
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/state/m.room.topic/?format=xml`), 400, 'M_INVALID_PARAM');
  });

  test('§ a non-member gets 403 M_FORBIDDEN (and 404 for single events)', async () => {
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/messages?dir=b`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/state`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/state/m.room.topic/`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/members`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/joined_members`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/context/${enc(sharedIds['m1']!)}`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('carol', `/rooms/${enc(shared)}/event/${enc(sharedIds['m1']!)}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await get('carol', `/rooms/${enc('!unknown:local.test')}/messages?dir=b`), 403, 'M_FORBIDDEN');
    expectMatrixError(await get('bob', `/rooms/${enc(shared)}/joined_members`), 403, 'M_FORBIDDEN');
  });

  test('§ Room event format: transaction_id for the sending device only, redacted_because, membership', async () => {
    const mine = await get('alice', `/rooms/${enc(shared)}/event/${enc(sharedIds['m1']!)}`);
    assert.equal(mine.status, 200);
    const body = mine.body as JsonObject;
    assert.equal(body['room_id'], shared);
    assert.equal((body['unsigned'] as JsonObject)['transaction_id'], 'txn-m1');
    assert.equal((body['unsigned'] as JsonObject)['membership'], 'join');
    const theirs = await get('bob', `/rooms/${enc(shared)}/event/${enc(sharedIds['m1']!)}`);
    assert.equal(((theirs.body as JsonObject)['unsigned'] as JsonObject)['transaction_id'], undefined);
    assert.equal(((theirs.body as JsonObject)['unsigned'] as JsonObject)['membership'], 'leave');

    const redacted = await get('alice', `/rooms/${enc(shared)}/event/${enc(sharedIds['m2']!)}`);
    assert.equal(redacted.status, 200);
    const r = redacted.body as JsonObject;
    assert.deepEqual(r['content'], {});
    const because = (r['unsigned'] as JsonObject)['redacted_because'] as JsonObject;
    assert.equal(because['event_id'], sharedIds['redaction']);
    assert.equal(because['redacts'], sharedIds['m2']);
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/event/${enc('$nope')}`), 404, 'M_NOT_FOUND');
  });

  test('§ GET /context: events around an event, state, and tokens that continue in /messages', async () => {
    const res = await get('alice', `/rooms/${enc(shared)}/context/${enc(sharedIds['m3']!)}?limit=4`);
    assert.equal(res.status, 200);
    assert.equal(res.status, 200);
    const body = res.body as JsonObject;
    assert.equal((body['event'] as JsonObject)['event_id'], sharedIds['m3']);
    assert.deepEqual((body['events_before'] as JsonObject[]).map((e) => e['event_id']), [sharedIds['m2'], sharedIds['m1']]);
    assert.deepEqual((body['events_after'] as JsonObject[]).map((e) => e['event_id']), [sharedIds['m4'], sharedIds['m5']]);
    assert.ok((body['state'] as JsonObject[]).some((e) => e['type'] === 'm.room.create'));
    const back = await get('alice', `/rooms/${enc(shared)}/messages?dir=b&limit=1&from=${body['start'] as string}`);
    assert.notEqual(bodies(back)[0]?.['event_id'], sharedIds['m1']);
    assert.equal(bodies(back).length, 1);
    const fwd = await get('alice', `/rooms/${enc(shared)}/messages?dir=f&limit=1&from=${body['end'] as string}`);
    assert.equal(bodies(fwd)[0]?.['event_id'], sharedIds['topic1']);
    // bob cannot see context beyond his leave.
    expectMatrixError(await get('bob', `/rooms/${enc(shared)}/context/${enc(sharedIds['m7']!)}`), 404, 'M_NOT_FOUND');
  });

  test('§ GET /members with membership, not_membership and at; /joined_members; /joined_rooms', async () => {
    const all = await get('alice', `/rooms/${enc(shared)}/members`);
    assert.equal(all.status, 200);
    assert.deepEqual(bodies(all).map((e) => e['state_key']).sort(), [ALICE, BOB]);
    const joined = await get('alice', `/rooms/${enc(shared)}/members?membership=join`);
    assert.deepEqual(bodies(joined).map((e) => e['state_key']), [ALICE]);
    const notJoined = await get('alice', `/rooms/${enc(shared)}/members?not_membership=join`);
    assert.deepEqual(bodies(notJoined).map((e) => e['state_key']), [BOB]);
    // The 'or' of the two: membership=leave OR membership != leave → everyone.
    const either = await get('alice', `/rooms/${enc(shared)}/members?membership=leave&not_membership=leave`);
    assert.equal(bodies(either).length, 2);
    expectMatrixError(await get('alice', `/rooms/${enc(shared)}/members?membership=joined`), 400, 'M_INVALID_PARAM');

    // `at` a token from before bob joined: alice alone.
    const early = await get('alice', `/rooms/${enc(shared)}/messages?dir=f&limit=3`);
    const at = (early.body as JsonObject)['end'] as string;
    const atRes = await get('alice', `/rooms/${enc(shared)}/members?at=${at}`);
    assert.equal(atRes.status, 200);
    assert.deepEqual(bodies(atRes).map((e) => e['state_key']), [ALICE]);
    // bob, departed, sees the members as of his leave.
    const bobView = await get('bob', `/rooms/${enc(shared)}/members?membership=leave`);
    assert.deepEqual(bodies(bobView).map((e) => e['state_key']), [BOB]);

    const jm = await get('alice', `/rooms/${enc(shared)}/joined_members`);
    assert.equal(jm.status, 200);
    assert.deepEqual(Object.keys((jm.body as JsonObject)['joined'] as JsonObject), [ALICE]);

    const rooms = await get('alice', '/joined_rooms');
    assert.equal(rooms.status, 200);
    assert.ok(((rooms.body as JsonObject)['joined_rooms'] as string[]).includes(shared));
    const bobRooms = await get('bob', '/joined_rooms');
    assert.ok(!((bobRooms.body as JsonObject)['joined_rooms'] as string[]).includes(shared));
  });

  test('§ Room History Visibility: joined hides what came before the join', async () => {
    now += 1000; // v12 room IDs hash the create event: a new timestamp, a new room.
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoom('joined') });
    const s1 = await say(roomId, ALICE, 's1');
    const join = (await rs.setMembership({ roomId, sender: DAVE, target: DAVE, membership: 'join' })).eventId;
    const s2 = await say(roomId, ALICE, 's2');
    const res = await get('dave', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
    assert.equal(res.status, 200);
    const ids = bodies(res).map((e) => e['event_id']);
    assert.deepEqual(ids.slice(0, 2), [s2, join]);
    assert.ok(!ids.includes(s1));
    // Events sent before `joined` was set were sent under the default (shared), and dave
    // joined after them; the history_visibility event itself is visible by its before side.
    assert.deepEqual(
      bodies(res).slice(2).map((e) => e['type']),
      ['m.room.history_visibility', 'm.room.join_rules', 'm.room.power_levels', 'm.room.member', 'm.room.create'],
    );
    expectMatrixError(await get('dave', `/rooms/${enc(roomId)}/event/${enc(s1)}`), 404, 'M_NOT_FOUND');
    // The state is still the room's whole state.
    const state = await get('dave', `/rooms/${enc(roomId)}/state`);
    assert.ok((state.body as JsonObject[]).some((e) => e['type'] === 'm.room.create'));
  });

  test('§ Room History Visibility: invited shows from the invite onwards', async () => {
    now += 1000; // v12 room IDs hash the create event: a new timestamp, a new room.
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoom('invited') });
    const x1 = await say(roomId, ALICE, 'x1');
    const invite = (await rs.setMembership({ roomId, sender: ALICE, target: CAROL, membership: 'invite' })).eventId;
    const x2 = await say(roomId, ALICE, 'x2');
    // Invited, not yet joined: the window is open from the invite.
    const invited = await get('carol', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
    // Not yet joined: even the room's setup (sent under the default, shared) is not theirs yet.
    assert.deepEqual(bodies(invited).map((e) => e['event_id']), [x2, invite]);
    const join = (await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'join' })).eventId;
    const res = await get('carol', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
    assert.deepEqual(bodies(res).map((e) => e['event_id']).slice(0, 3), [join, x2, invite]);
    // Joined now: the shared setup before the history_visibility change is theirs too.
    assert.equal(bodies(res)[3]?.['type'], 'm.room.history_visibility');
    assert.ok(!bodies(res).some((e) => e['event_id'] === x1));
  });

  test('§ Room History Visibility: world_readable rooms are readable by anyone', async () => {
    now += 1000; // v12 room IDs hash the create event: a new timestamp, a new room.
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: publicRoom('world_readable') });
    const w1 = await say(roomId, ALICE, 'w1');
    const msgs = await get('carol', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
    assert.equal(msgs.status, 200);
    assert.equal(bodies(msgs)[0]?.['event_id'], w1);
    assert.equal(((bodies(msgs)[0]?.['unsigned'] as JsonObject)['membership']), 'leave');
    assert.equal((await get('carol', `/rooms/${enc(roomId)}/event/${enc(w1)}`)).status, 200);
    assert.equal((await get('carol', `/rooms/${enc(roomId)}/state`)).status, 200);
    expectMatrixError(await get('carol', `/rooms/${enc(roomId)}/joined_members`), 403, 'M_FORBIDDEN');
  });
});
