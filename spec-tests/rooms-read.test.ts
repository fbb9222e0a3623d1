// Room reads over HTTP on a real node, with history visibility enforced: client-server
// § "Getting events for a room" (/messages, /event, /state, /members, /joined_members),
// § "Event context", § "Room History Visibility", § "Room event format", list_joined_rooms.
// Rooms are made through the node's own /createRoom, /join, /send, /leave. Every response is
// checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

let nodes: TestNode[] = [];
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let dave: RegisteredUser;
let txn = 0;

const { client } = clientCalls(() => nodes[0]!.clientUrl);
const enc = encodeURIComponent;

async function createRoom(user: RegisteredUser, visibility: string): Promise<string> {
  const body = await ok(
    client(user, 'POST', '/createRoom', {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: visibility } }],
    }),
  );
  return body['room_id'] as string;
}
const txnIdOf = new Map<string, string>();
async function say(user: RegisteredUser, roomId: string, text: string): Promise<string> {
  const txnId = `t${++txn}`;
  const body = await ok(client(user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${txnId}`, { msgtype: 'm.text', body: text }));
  txnIdOf.set(body['event_id'] as string, txnId);
  return body['event_id'] as string;
}
const join = (user: RegisteredUser, roomId: string) => ok(client(user, 'POST', `/rooms/${enc(roomId)}/join`, {}));
const leave = (user: RegisteredUser, roomId: string) => ok(client(user, 'POST', `/rooms/${enc(roomId)}/leave`, {}));
const chunkOf = (body: Json) => body['chunk'] as Json[];

let room: string;
const ids: Record<string, string> = {};

before(async () => {
  nodes = await startNodes(1);
  const node = nodes[0]!;
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  carol = await registerUser(node, 'carol');
  dave = await registerUser(node, 'dave');
  room = await createRoom(alice, 'shared');
  for (let i = 1; i <= 4; i++) ids[`a${i}`] = await say(alice, room, `a${i}`);
  ids['topic1'] = (await ok(client(alice, 'PUT', `/rooms/${enc(room)}/state/m.room.topic/`, { topic: 'first' })))['event_id'] as string;
  await join(bob, room);
  ids['b1'] = await say(bob, room, 'b1');
  await leave(bob, room);
  ids['a5'] = await say(alice, room, 'a5 (after bob left)');
  ids['topic2'] = (await ok(client(alice, 'PUT', `/rooms/${enc(room)}/state/m.room.topic/`, { topic: 'second' })))['event_id'] as string;
});
after(() => stopNodes(nodes));

test('client-server § GET /rooms/{roomId}/messages: backward to the start, then forward, with from/to/limit', async () => {
  const backward: Json[] = [];
  let from: string | undefined;
  for (let page = 0; ; page++) {
    assert.ok(page < 30, 'backward pagination ends');
    const res = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=4${from === undefined ? '' : `&from=${enc(from)}`}`);
    expectSpecResponse(res, 'getRoomEvents');
    const body = res.body as Json;
    backward.push(...chunkOf(body));
    if (body['end'] === undefined) break;
    from = body['end'] as string;
  }
  assert.equal(backward.at(-1)?.['type'], 'm.room.create');
  assert.equal(backward[0]?.['event_id'], ids['topic2']);

  const forward: Json[] = [];
  let token: string | undefined;
  for (let page = 0; page < 30; page++) {
    const res = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=f&limit=5${token === undefined ? '' : `&from=${enc(token)}`}`);
    expectSpecResponse(res, 'getRoomEvents');
    forward.push(...chunkOf(res.body as Json));
    if ((res.body as Json)['end'] === undefined) break;
    token = (res.body as Json)['end'] as string;
  }
  assert.deepEqual(forward.map((e) => e['event_id']), backward.map((e) => e['event_id']).reverse());

  // `to`: backward from the newest down to the token after the first five events.
  const five = (await ok(client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=f&limit=5`)))['end'] as string;
  const bounded = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=100&to=${enc(five)}`);
  expectSpecResponse(bounded, 'getRoomEvents');
  assert.equal(chunkOf(bounded.body as Json).length, backward.length - 5);
});

test('client-server § Filtering: /messages with a RoomEventFilter and lazy-loaded members', async () => {
  const filter = enc(JSON.stringify({ types: ['m.room.message'], senders: [alice.userId], lazy_load_members: true }));
  const res = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=20&filter=${filter}`);
  expectSpecResponse(res, 'getRoomEvents');
  const chunk = chunkOf(res.body as Json);
  assert.deepEqual(chunk.map((e) => e['event_id']), [ids['a5'], ids['a4'], ids['a3'], ids['a2'], ids['a1']]);
  assert.deepEqual(((res.body as Json)['state'] as Json[]).map((e) => e['state_key']), [alice.userId]);
  // The sending device sees its transaction ID.
  assert.equal((chunk[0]?.['unsigned'] as Json)['transaction_id'], txnIdOf.get(ids['a5']!));
  expectMatrixError(await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=b&filter=%7Bnope`), 400, 'M_INVALID_PARAM');
});

test('client-server § Room History Visibility: a user who left reads up to their leave', async () => {
  const res = await client(bob, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=50`);
  expectSpecResponse(res, 'getRoomEvents');
  const seen = chunkOf(res.body as Json).map((e) => e['event_id']);
  assert.equal(chunkOf(res.body as Json)[0]?.['type'], 'm.room.member', 'the newest event bob sees is his leave');
  assert.ok(seen.includes(ids['a1']) && seen.includes(ids['b1']), 'shared history before his join is readable');
  assert.ok(!seen.includes(ids['a5']) && !seen.includes(ids['topic2']), 'nothing after his leave');
  expectMatrixError(await client(bob, 'GET', `/rooms/${enc(room)}/event/${enc(ids['a5']!)}`), 404, 'M_NOT_FOUND');
  const event = await client(bob, 'GET', `/rooms/${enc(room)}/event/${enc(ids['b1']!)}`);
  expectSpecResponse(event, 'getOneRoomEvent');

  const state = await client(bob, 'GET', `/rooms/${enc(room)}/state`);
  expectSpecResponse(state, 'client-server:getRoomState');
  assert.deepEqual((state.body as Json[]).find((e) => e['type'] === 'm.room.topic')?.['content'], { topic: 'first' });
  const topic = await client(bob, 'GET', `/rooms/${enc(room)}/state/m.room.topic/`);
  expectSpecResponse(topic, 'getRoomStateWithKey');
  assert.deepEqual(topic.body, { topic: 'first' });
});

test('client-server § GET /rooms/{roomId}/state/{eventType}/{stateKey}: content and format=event', async () => {
  const content = await client(alice, 'GET', `/rooms/${enc(room)}/state/m.room.topic/`);
  expectSpecResponse(content, 'getRoomStateWithKey');
  assert.deepEqual(content.body, { topic: 'second' });
  const event = await client(alice, 'GET', `/rooms/${enc(room)}/state/m.room.topic/?format=event`);
  // The spec's `oneOf: [{type: object}, state_event]` matches every event twice; the event
  // form is checked as the ClientEvent it is.
  assert.equal(event.status, 200);
  expectSpecResponse(event, 'getOneRoomEvent');
  const unsigned = (event.body as Json)['unsigned'] as Json;
  assert.deepEqual(unsigned['prev_content'], { topic: 'first' });
  assert.equal(unsigned['replaces_state'], ids['topic1']);
  expectMatrixError(await client(alice, 'GET', `/rooms/${enc(room)}/state/m.room.name/`), 404, 'M_NOT_FOUND');
});

test('client-server § Room History Visibility: a non-member gets 403 M_FORBIDDEN', async () => {
  for (const path of ['/messages?dir=b', '/state', '/state/m.room.topic/', '/members', '/joined_members', `/context/${enc(ids['a1']!)}`]) {
    expectMatrixError(await client(carol, 'GET', `/rooms/${enc(room)}${path}`), 403, 'M_FORBIDDEN');
  }
  expectMatrixError(await client(carol, 'GET', `/rooms/${enc(room)}/event/${enc(ids['a1']!)}`), 404, 'M_NOT_FOUND');
});

test('client-server § GET /rooms/{roomId}/context/{eventId}', async () => {
  const res = await client(alice, 'GET', `/rooms/${enc(room)}/context/${enc(ids['a2']!)}?limit=2`);
  expectSpecResponse(res, 'getEventContext');
  const body = res.body as Json;
  assert.equal((body['event'] as Json)['event_id'], ids['a2']);
  assert.deepEqual((body['events_before'] as Json[]).map((e) => e['event_id']), [ids['a1']]);
  assert.deepEqual((body['events_after'] as Json[]).map((e) => e['event_id']), [ids['a3']]);
  assert.ok((body['state'] as Json[]).some((e) => e['type'] === 'm.room.create'));
  const next = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=f&limit=1&from=${enc(body['end'] as string)}`);
  expectSpecResponse(next, 'getRoomEvents');
  assert.equal(chunkOf(next.body as Json)[0]?.['event_id'], ids['a4']);
});

test('client-server § GET /members (membership, not_membership, at), /joined_members, /joined_rooms', async () => {
  const all = await client(alice, 'GET', `/rooms/${enc(room)}/members`);
  expectSpecResponse(all, 'getMembersByRoom');
  assert.deepEqual(chunkOf(all.body as Json).map((e) => e['state_key']).sort(), [alice.userId, bob.userId].sort());
  const joined = await client(alice, 'GET', `/rooms/${enc(room)}/members?membership=join`);
  expectSpecResponse(joined, 'getMembersByRoom');
  assert.deepEqual(chunkOf(joined.body as Json).map((e) => e['state_key']), [alice.userId]);
  const notJoined = await client(alice, 'GET', `/rooms/${enc(room)}/members?not_membership=join`);
  assert.deepEqual(chunkOf(notJoined.body as Json).map((e) => e['state_key']), [bob.userId]);
  const early = (await ok(client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=f&limit=3`)))['end'] as string;
  const at = await client(alice, 'GET', `/rooms/${enc(room)}/members?at=${enc(early)}`);
  expectSpecResponse(at, 'getMembersByRoom');
  assert.deepEqual(chunkOf(at.body as Json).map((e) => e['state_key']), [alice.userId]);
  expectMatrixError(await client(alice, 'GET', `/rooms/${enc(room)}/members?membership=nope`), 400, 'M_INVALID_PARAM');

  const jm = await client(alice, 'GET', `/rooms/${enc(room)}/joined_members`);
  expectSpecResponse(jm, 'getJoinedMembersByRoom');
  assert.deepEqual(Object.keys((jm.body as Json)['joined'] as Json), [alice.userId]);
  expectMatrixError(await client(bob, 'GET', `/rooms/${enc(room)}/joined_members`), 403, 'M_FORBIDDEN');

  const rooms = await client(alice, 'GET', '/joined_rooms');
  expectSpecResponse(rooms, 'getJoinedRooms');
  assert.ok(((rooms.body as Json)['joined_rooms'] as string[]).includes(room));
  const bobRooms = await client(bob, 'GET', '/joined_rooms');
  expectSpecResponse(bobRooms, 'getJoinedRooms');
  assert.ok(!((bobRooms.body as Json)['joined_rooms'] as string[]).includes(room));
});

test('client-server § Room History Visibility: `joined` hides the events before the join', async () => {
  const joinedRoom = await createRoom(alice, 'joined');
  const before = await say(alice, joinedRoom, 'before dave');
  await join(dave, joinedRoom);
  const afterJoin = await say(alice, joinedRoom, 'after dave');
  const res = await client(dave, 'GET', `/rooms/${enc(joinedRoom)}/messages?dir=b&limit=50`);
  expectSpecResponse(res, 'getRoomEvents');
  const seen = chunkOf(res.body as Json);
  assert.equal(seen[0]?.['event_id'], afterJoin);
  assert.equal(seen[1]?.['type'], 'm.room.member');
  assert.equal(seen[1]?.['state_key'], dave.userId);
  assert.ok(!seen.some((e) => e['event_id'] === before));
  expectMatrixError(await client(dave, 'GET', `/rooms/${enc(joinedRoom)}/event/${enc(before)}`), 404, 'M_NOT_FOUND');
  // alice, joined throughout, sees both.
  const aliceView = chunkOf(await ok(client(alice, 'GET', `/rooms/${enc(joinedRoom)}/messages?dir=b&limit=50`)));
  assert.ok(aliceView.some((e) => e['event_id'] === before));
});

test('client-server § Room History Visibility: world_readable rooms are readable by non-members', async () => {
  const open = await createRoom(alice, 'world_readable');
  const hello = await say(alice, open, 'hello world');
  const res = await client(carol, 'GET', `/rooms/${enc(open)}/messages?dir=b&limit=5`);
  expectSpecResponse(res, 'getRoomEvents');
  assert.equal(chunkOf(res.body as Json)[0]?.['event_id'], hello);
  expectSpecResponse(await client(carol, 'GET', `/rooms/${enc(open)}/event/${enc(hello)}`), 'getOneRoomEvent');
  expectSpecResponse(await client(carol, 'GET', `/rooms/${enc(open)}/state`), 'client-server:getRoomState');
});
