// Backfill on scroll (issue 5 item 5): a node that joined a room over federation holds only
// the state and its own join; when its user pages back past the join, the node asks a
// resident server for the earlier history (server-server § "Backfilling and retrieving
// missing events"), checks it as on receipt, places it below the timeline and /messages
// carries on into it (client-server § "Getting events for a room"). Two real nodes over
// HTTPS with the rig's test CA, driven through the Client-Server API only.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;
/** Messages of history on the room's home node before the second node's user joins. */
const HISTORY = 300;

function call(node: TestNode, user: RegisteredUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, {
    method,
    headers: authHeaders(user),
    ...(body === undefined ? {} : { body }),
  });
}

interface Page {
  readonly events: Array<Record<string, unknown>>;
  /** Every page's `end`, in order: the last is absent at the start of the room. */
  readonly ends: Array<string | undefined>;
}

/** The whole room from the newest event back, via /messages dir=b in pages of `limit`. */
async function pageBack(node: TestNode, user: RegisteredUser, roomId: string, limit: number): Promise<Page> {
  const events: Array<Record<string, unknown>> = [];
  const ends: Array<string | undefined> = [];
  let from: string | undefined;
  for (let round = 0; round < 200; round++) {
    const query = new URLSearchParams({ dir: 'b', limit: String(limit) });
    if (from !== undefined) query.set('from', from);
    const res = await call(node, user, 'GET', `/rooms/${enc(roomId)}/messages?${query}`);
    expectSpecResponse(res, 'getRoomEvents');
    const body = res.body as { chunk: Array<Record<string, unknown>>; end?: string };
    events.push(...body.chunk);
    ends.push(body.end);
    if (body.end === undefined) return { events, ends };
    from = body.end;
  }
  throw new Error('pagination did not end');
}

describe('server-server § Backfilling and retrieving missing events: backfill on scroll', () => {
  let nodes: TestNode[] = [];
  let home: TestNode;
  let joiner: TestNode;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let roomId: string;
  const sent: string[] = [];

  before(async () => {
    nodes = await startNodes(2, { tls: true, startTimeoutMs: 180_000 });
    [home, joiner] = nodes as [TestNode, TestNode];
    alice = await registerUser(home, 'alice');
    bob = await registerUser(joiner, 'bob');
    const created = await call(home, alice, 'POST', '/createRoom', {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } }],
    });
    expectSpecResponse(created, 'createRoom');
    roomId = String((created.body as { room_id: string }).room_id);
    for (let i = 0; i < HISTORY; i++) {
      const res = await call(home, alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/history-${i}`, { msgtype: 'm.text', body: `history ${i}` });
      expectSpecResponse(res, 'sendMessage');
      sent.push(String((res.body as { event_id: string }).event_id));
    }
    const joined = await call(joiner, bob, 'POST', `/join/${enc(roomId)}?server_name=${enc(home.serverName)}`, {});
    expectSpecResponse(joined, 'joinRoom');
  });

  after(async () => {
    await stopNodes(nodes);
  });

  test('client-server § GET /rooms/{roomId}/messages: a node that joined late pages back through all earlier history, in order, once each, to the room start', async () => {
    const onHome = await pageBack(home, alice, roomId, 500);
    const onJoiner = await pageBack(joiner, bob, roomId, 40);
    const ids = onJoiner.events.map((e) => String(e['event_id']));
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    // Every one of the home node's messages, newest first, as the home node itself shows them.
    const messages = onJoiner.events.filter((e) => e['type'] === 'm.room.message').map((e) => String(e['event_id']));
    assert.deepEqual(messages, [...sent].reverse());
    assert.deepEqual(ids, onHome.events.map((e) => String(e['event_id'])), 'the same timeline as on the home node');
    assert.equal(onJoiner.events.at(-1)?.['type'], 'm.room.create', 'back to the start of the room');
    assert.equal(onJoiner.ends.at(-1), undefined, '`end` is absent at the start of the room');
    assert.ok(onJoiner.ends.length > HISTORY / 40, 'more than one page');
  });

  test('client-server § GET /rooms/{roomId}/messages: dir=f without `from` starts at the room start, backfilled history included', async () => {
    const back = await pageBack(joiner, bob, roomId, 1000);
    const res = await call(joiner, bob, 'GET', `/rooms/${enc(roomId)}/messages?dir=f&limit=1000`);
    expectSpecResponse(res, 'getRoomEvents');
    const forward = (res.body as { chunk: Array<Record<string, unknown>> }).chunk.map((e) => String(e['event_id']));
    assert.ok(forward.length > HISTORY, `${forward.length} events`);
    assert.deepEqual(forward, back.events.map((e) => String(e['event_id'])).reverse());
  });
});
