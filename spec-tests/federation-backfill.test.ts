// Backfill on scroll (issue 5 item 5): a node that joined a room over federation holds only
// the state and its own join; when its user pages back past the join, the node asks a
// resident server for the earlier history (server-server § "Backfilling and retrieving
// missing events"), checks it as on receipt, places it below the timeline and /messages
// carries on into it (client-server § "Getting events for a room"). Two real nodes over
// HTTPS with the rig's test CA, driven through the Client-Server API only.
//
// Backfilled history is indexed like live history (issue 5): an edit, a reaction and a
// thread reply backfilled with their parent aggregate under it in /messages and /relations
// (client-server § "Aggregations of child events", relations.yaml), and /search finds
// backfilled messages and pages through them (§ "Server Side Search").

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;
/** Messages of history on the room's home node before the second node's user joins. */
const HISTORY = 300;

function call(node: TestNode, user: RegisteredUser, method: string, path: string, body?: unknown, version = 'v3'): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/${version}${path}`, {
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

  describe('backfilled history is indexed: relations and search', () => {
    let room: string;
    let original: string;
    let edit: string;
    let reaction: string;
    let reply: string;
    const fillers: string[] = [];
    /** What bob saw scrolling up the first time, when each /messages backfilled what it returned. */
    let firstScroll: Page;

    before(async () => {
      const created = await call(home, alice, 'POST', '/createRoom', {
        preset: 'public_chat',
        initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } }],
      });
      expectSpecResponse(created, 'createRoom');
      room = String((created.body as { room_id: string }).room_id);
      let txn = 0;
      const send = async (type: string, content: Record<string, unknown>): Promise<string> => {
        const res = await call(home, alice, 'PUT', `/rooms/${enc(room)}/send/${type}/ix-${txn++}`, content);
        expectSpecResponse(res, 'sendMessage');
        return String((res.body as { event_id: string }).event_id);
      };
      original = await send('m.room.message', { msgtype: 'm.text', body: 'an ocelot crossed the backfilled meadow' });
      edit = await send('m.room.message', {
        msgtype: 'm.text',
        body: '* an ocelot crossed the meadow at dawn',
        'm.new_content': { msgtype: 'm.text', body: 'an ocelot crossed the meadow at dawn' },
        'm.relates_to': { rel_type: 'm.replace', event_id: original },
      });
      reaction = await send('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: original, key: '🐆' } });
      reply = await send('m.room.message', { msgtype: 'm.text', body: 'in thread', 'm.relates_to': { rel_type: 'm.thread', event_id: original } });
      // More history after it, so the parent is more than one backfill page away.
      for (let i = 0; i < 25; i++) fillers.push(await send('m.room.message', { msgtype: 'm.text', body: `quokka sighting ${i}` }));
      const joined = await call(joiner, bob, 'POST', `/join/${enc(room)}?server_name=${enc(home.serverName)}`, {});
      expectSpecResponse(joined, 'joinRoom');
      // Bob scrolls to the start of the room: everything before his join is backfilled, the
      // parent and its children by the same /messages that returns them.
      firstScroll = await pageBack(joiner, bob, room, 50);
      assert.ok(firstScroll.events.some((e) => e['event_id'] === original), 'the parent was backfilled');
    });

    test('client-server § Aggregations of child events: /messages bundles the backfilled edit and thread reply under the backfilled parent', async () => {
      for (const [when, page] of [['first scroll', firstScroll], ['scrolled again', await pageBack(joiner, bob, room, 7)]] as const) {
        const parent = page.events.find((e) => e['event_id'] === original);
        assert.ok(parent !== undefined, when);
        const relations = (parent['unsigned'] as Record<string, unknown> | undefined)?.['m.relations'] as Record<string, Record<string, unknown>> | undefined;
        assert.ok(relations !== undefined, `${when}: m.relations bundled: ${JSON.stringify(parent)}`);
        assert.equal(relations['m.replace']?.['event_id'], edit, `${when}: the edit`);
        assert.equal(relations['m.thread']?.['count'], 1, `${when}: the thread`);
        assert.equal((relations['m.thread']?.['latest_event'] as Record<string, unknown>)['event_id'], reply, when);
        assert.equal(relations['m.annotation'], undefined, `${when}: annotations are not aggregated`);
      }
    });

    test('relations.yaml GET /rooms/{roomId}/relations/{eventId}: the backfilled children, newest first, by rel_type too', async () => {
      const all = await call(joiner, bob, 'GET', `/rooms/${enc(room)}/relations/${enc(original)}`, undefined, 'v1');
      expectSpecResponse(all, 'getRelatingEvents');
      assert.deepEqual((all.body as { chunk: Array<{ event_id: string }> }).chunk.map((e) => e.event_id), [reply, reaction, edit]);
      const reactions = await call(joiner, bob, 'GET', `/rooms/${enc(room)}/relations/${enc(original)}/m.annotation/m.reaction`, undefined, 'v1');
      expectSpecResponse(reactions, 'getRelatingEventsWithRelTypeAndEventType');
      assert.deepEqual((reactions.body as { chunk: Array<{ event_id: string }> }).chunk.map((e) => e.event_id), [reaction]);
      // Paged one at a time: the tokens name backfilled (negative) stream positions.
      const ids: string[] = [];
      let from: string | undefined;
      for (let round = 0; round < 5; round++) {
        const res = await call(joiner, bob, 'GET', `/rooms/${enc(room)}/relations/${enc(original)}?limit=1${from === undefined ? '' : `&from=${enc(from)}`}`, undefined, 'v1');
        expectSpecResponse(res, 'getRelatingEvents');
        const body = res.body as { chunk: Array<{ event_id: string }>; next_batch?: string };
        ids.push(...body.chunk.map((e) => e.event_id));
        if (body.next_batch === undefined) break;
        from = body.next_batch;
      }
      assert.deepEqual(ids, [reply, reaction, edit]);
    });

    test('client-server § Server Side Search: backfilled messages are found, and next_batch pages through them', async () => {
      const search = async (criteria: Record<string, unknown>, nextBatch?: string) => {
        const res = await call(joiner, bob, 'POST', `/search${nextBatch === undefined ? '' : `?next_batch=${enc(nextBatch)}`}`, {
          search_categories: { room_events: criteria },
        });
        expectSpecResponse(res, 'search');
        assert.equal(res.status, 200, res.text);
        return (res.body as { search_categories: { room_events: { results: Array<{ result: { event_id: string } }>; next_batch?: string } } })
          .search_categories.room_events;
      };
      const ocelot = await search({ search_term: 'ocelot', filter: { rooms: [room] } });
      assert.deepEqual(new Set(ocelot.results.map((r) => r.result.event_id)), new Set([original, edit]));
      // Newest first, two a page, all 25 backfilled fillers once each.
      const found: string[] = [];
      let next: string | undefined;
      for (let round = 0; round < 20; round++) {
        const page = await search({ search_term: 'quokka', order_by: 'recent', filter: { rooms: [room], limit: 2 } }, next);
        found.push(...page.results.map((r) => r.result.event_id));
        next = page.next_batch;
        if (next === undefined) break;
      }
      assert.deepEqual(found, [...fillers].reverse());
    });
  });
});
