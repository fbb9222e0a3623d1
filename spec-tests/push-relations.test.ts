// Push rules, pushers, notifications, relations and threads on a real node (issue 9 items 2
// and 4): client-server § "Push Notifications" (Push Rules: API, Predefined Rules, Receiving
// notifications, Listing Notifications), push gateway API § "POST /_matrix/push/v1/notify",
// § "Forming relationships between events", § "Event replacements", § "Threading",
// § "Event annotations". Every response is checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

let nodes: TestNode[] = [];
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let txn = 0;
const enc = encodeURIComponent;

const { client } = clientCalls(() => nodes[0]!.clientUrl);
async function send(user: RegisteredUser, roomId: string, type: string, content: Json): Promise<string> {
  const body = await ok(client(user, 'PUT', `/rooms/${enc(roomId)}/send/${type}/t${++txn}`, content));
  return body['event_id'] as string;
}
async function createSharedRoom(): Promise<string> {
  const room = (await ok(client(alice, 'POST', '/createRoom', { preset: 'public_chat' })))['room_id'] as string;
  await ok(client(bob, 'POST', `/rooms/${enc(room)}/join`, {}));
  return room;
}
async function unread(user: RegisteredUser, roomId: string): Promise<Json> {
  const res = await client(user, 'GET', '/sync');
  expectSpecResponse(res, 'sync');
  const rooms = (res.body as Json)['rooms'] as Json;
  const joined = (rooms['join'] as Record<string, Json>)[roomId];
  assert.ok(joined, 'room in sync');
  return joined['unread_notifications'] as Json;
}

before(async () => {
  nodes = await startNodes(1);
  alice = await registerUser(nodes[0]!, 'alice');
  bob = await registerUser(nodes[0]!, 'bob');
  carol = await registerUser(nodes[0]!, 'carol');
});
after(() => stopNodes(nodes));

describe('client-server § Push Rules: API', () => {
  test('GET /pushrules/ returns the spec\'s default rules (§ Predefined Rules) in order', async () => {
    const res = await client(alice, 'GET', '/pushrules/');
    expectSpecResponse(res, 'getPushRules');
    const global = (res.body as Json)['global'] as Record<string, Json[]>;
    assert.deepEqual(global['override']!.map((r) => r['rule_id']), [
      '.m.rule.master', '.m.rule.suppress_notices', '.m.rule.invite_for_me', '.m.rule.member_event',
      '.m.rule.is_user_mention', '.m.rule.is_room_mention', '.m.rule.tombstone', '.m.rule.reaction',
      '.m.rule.room.server_acl', '.m.rule.suppress_edits',
    ]);
    assert.deepEqual(global['underride']!.map((r) => r['rule_id']), [
      '.m.rule.call', '.m.rule.encrypted_room_one_to_one', '.m.rule.room_one_to_one', '.m.rule.message', '.m.rule.encrypted',
    ]);
    const mention = global['override']!.find((r) => r['rule_id'] === '.m.rule.is_user_mention');
    assert.deepEqual(mention, {
      rule_id: '.m.rule.is_user_mention',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: alice.userId }],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    });
    const globalOnly = await client(alice, 'GET', '/pushrules/global/');
    expectSpecResponse(globalOnly, 'getPushRulesGlobal');
    assert.deepEqual(globalOnly.body, global);
  });

  test('PUT with before/after orders user rules; GET, enabled, actions, DELETE', async () => {
    const put = (id: string, query = '') =>
      client(carol, 'PUT', `/pushrules/global/content/${id}${query}`, { pattern: id, actions: ['notify'] });
    const r1 = await put('cake');
    expectSpecResponse(r1, 'setPushRule');
    assert.equal(r1.status, 200);
    await ok(put('nocake', '?before=cake'));
    await ok(put('tea', '?after=nocake'));
    await ok(put('scone'));
    const content = ((await ok(client(carol, 'GET', '/pushrules/global/'))) as Record<string, Json[]>)['content']!;
    assert.deepEqual(content.map((r) => r['rule_id']), ['scone', 'nocake', 'tea', 'cake']);

    const one = await client(carol, 'GET', '/pushrules/global/content/tea');
    expectSpecResponse(one, 'getPushRule');
    assert.deepEqual(one.body, { rule_id: 'tea', default: false, enabled: true, actions: ['notify'], pattern: 'tea' });

    expectSpecResponse(await client(carol, 'PUT', '/pushrules/global/content/tea/enabled', { enabled: false }), 'setPushRuleEnabled');
    const enabled = await client(carol, 'GET', '/pushrules/global/content/tea/enabled');
    expectSpecResponse(enabled, 'isPushRuleEnabled');
    assert.deepEqual(enabled.body, { enabled: false });

    const newActions = ['notify', { set_tweak: 'sound', value: 'bing' }];
    expectSpecResponse(await client(carol, 'PUT', '/pushrules/global/content/tea/actions', { actions: newActions }), 'setPushRuleActions');
    const actions = await client(carol, 'GET', '/pushrules/global/content/tea/actions');
    expectSpecResponse(actions, 'getPushRuleActions');
    assert.deepEqual(actions.body, { actions: newActions });

    // A default rule can be disabled and given other actions.
    await ok(client(carol, 'PUT', '/pushrules/global/override/.m.rule.master/enabled', { enabled: true }));
    assert.deepEqual(await ok(client(carol, 'GET', '/pushrules/global/override/.m.rule.master/enabled')), { enabled: true });
    await ok(client(carol, 'PUT', '/pushrules/global/override/.m.rule.master/enabled', { enabled: false }));

    const deleted = await client(carol, 'DELETE', '/pushrules/global/content/tea');
    expectSpecResponse(deleted, 'deletePushRule');
    const gone = await client(carol, 'GET', '/pushrules/global/content/tea');
    expectMatrixError(gone, 404, 'M_NOT_FOUND');
    expectSpecResponse(gone, 'getPushRule');
    expectMatrixError(await client(carol, 'DELETE', '/pushrules/global/content/tea'), 404, 'M_NOT_FOUND');
    expectMatrixError(await client(carol, 'PUT', '/pushrules/global/content/tea/enabled', { enabled: true }), 404, 'M_NOT_FOUND');
  });

  test('bad rules are refused with the spec\'s errors', async () => {
    const badBefore = await client(carol, 'PUT', '/pushrules/global/content/x?before=nosuchrule', { pattern: 'x', actions: [] });
    expectMatrixError(badBefore, 400, 'M_UNKNOWN');
    expectSpecResponse(badBefore, 'setPushRule');
    expectMatrixError(await client(carol, 'PUT', '/pushrules/global/override/.mine', { actions: [] }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await client(carol, 'PUT', '/pushrules/global/content/nopattern', { actions: [] }), 400, 'M_MISSING_PARAM');
    expectMatrixError(await client(carol, 'PUT', '/pushrules/global/sender/x', { actions: 'notify' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await client(carol, 'PUT', '/pushrules/global/nokind/x', { actions: [] }), 400, 'M_INVALID_PARAM');
  });
});

describe('client-server § Receiving notifications: /sync counts follow the push rules', () => {
  test('messages count, mentions highlight, a disabled rule stops counting, m.push_rules is in account_data', async () => {
    const room = await createSharedRoom();
    await send(alice, room, 'm.room.message', { msgtype: 'm.text', body: 'hello' });
    await send(bob, room, 'm.room.message', { msgtype: 'm.text', body: 'hi' });
    await send(bob, room, 'm.room.message', { msgtype: 'm.text', body: 'hey alice', 'm.mentions': { user_ids: [alice.userId] } });
    await send(bob, room, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👍' } });
    await send(bob, room, 'm.room.message', { msgtype: 'm.notice', body: 'a bot notice' });
    assert.deepEqual(await unread(alice, room), { notification_count: 2, highlight_count: 1 });

    // Two members: `.m.rule.room_one_to_one` matched the plain message; disable it and `.m.rule.message`.
    await ok(client(alice, 'PUT', '/pushrules/global/underride/.m.rule.room_one_to_one/enabled', { enabled: false }));
    await ok(client(alice, 'PUT', '/pushrules/global/underride/.m.rule.message/enabled', { enabled: false }));
    assert.deepEqual(await unread(alice, room), { notification_count: 1, highlight_count: 1 });

    const initial = await ok(client(alice, 'GET', '/sync'));
    const pushRules = ((initial['account_data'] as Json)['events'] as Json[]).find((e) => e['type'] === 'm.push_rules');
    assert.ok(pushRules, 'm.push_rules in account_data');
    const underride = ((pushRules['content'] as Json)['global'] as Record<string, Json[]>)['underride']!;
    assert.equal(underride.find((r) => r['rule_id'] === '.m.rule.message')?.['enabled'], false);

    await ok(client(alice, 'PUT', '/pushrules/global/underride/.m.rule.room_one_to_one/enabled', { enabled: true }));
    await ok(client(alice, 'PUT', '/pushrules/global/underride/.m.rule.message/enabled', { enabled: true }));
    assert.deepEqual(await unread(alice, room), { notification_count: 2, highlight_count: 1 });
  });
});

describe('client-server § Pushers and the push gateway API § POST /_matrix/push/v1/notify', () => {
  let gateway: Server;
  const received: Json[] = [];
  let gatewayUrl: string;
  let failNext = 0;

  before(async () => {
    gateway = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        if (req.url !== '/_matrix/push/v1/notify' || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        if (failNext > 0) {
          failNext--;
          res.writeHead(502).end();
          return;
        }
        received.push(JSON.parse(text) as Json);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rejected: [] }));
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/_matrix/push/v1/notify`;
  });
  after(() => new Promise<void>((resolve) => gateway.close(() => resolve())));

  test('a pusher is set and listed; bad pushers are refused', async () => {
    const set = await client(alice, 'POST', '/pushers/set', {
      kind: 'http',
      app_id: 'org.example.stoa.test',
      pushkey: 'alice-key',
      app_display_name: 'Stoa tests',
      device_display_name: 'Test device',
      lang: 'en',
      data: { url: gatewayUrl, 'org.example.custom': 'kept' },
    });
    expectSpecResponse(set, 'postPusher');
    assert.equal(set.status, 200, set.text);
    const list = await client(alice, 'GET', '/pushers');
    expectSpecResponse(list, 'getPushers');
    const pushers = (list.body as Json)['pushers'] as Json[];
    assert.equal(pushers.length, 1);
    assert.equal(pushers[0]!['pushkey'], 'alice-key');

    const missing = await client(alice, 'POST', '/pushers/set', { kind: 'http', app_id: 'a', pushkey: 'b' });
    expectMatrixError(missing, 400, 'M_MISSING_PARAM');
    expectSpecResponse(missing, 'postPusher');
    const badUrl = await client(alice, 'POST', '/pushers/set', {
      kind: 'http', app_id: 'a', pushkey: 'b', app_display_name: 'x', device_display_name: 'y', lang: 'en', data: { url: 'http://127.0.0.1/elsewhere' },
    });
    expectMatrixError(badUrl, 400, 'M_INVALID_PARAM');
  });

  test('a mention reaches the gateway with the spec\'s body shape, after a failed attempt is retried', async () => {
    const room = await createSharedRoom();
    await ok(client(alice, 'PUT', `/rooms/${enc(room)}/state/m.room.name/`, { name: 'Mission Control' }));
    failNext = 1;
    const eventId = await send(bob, room, 'm.room.message', {
      msgtype: 'm.text',
      body: 'alice, look',
      'm.mentions': { user_ids: [alice.userId] },
    });
    const deadline = Date.now() + 15_000;
    let notification: Json | undefined;
    while (Date.now() < deadline && notification === undefined) {
      notification = received.map((b) => b['notification'] as Json).find((n) => n['event_id'] === eventId);
      if (notification === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(notification, 'the gateway received the notification');
    assert.equal(failNext, 0, 'the first attempt failed and was retried');
    assert.equal(notification['room_id'], room);
    assert.equal(notification['type'], 'm.room.message');
    assert.equal(notification['sender'], bob.userId);
    assert.equal(notification['room_name'], 'Mission Control');
    assert.equal(notification['prio'], 'high');
    assert.equal((notification['content'] as Json)['body'], 'alice, look');
    assert.ok(((notification['counts'] as Json)['unread'] as number) >= 1);
    const devices = notification['devices'] as Json[];
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!['app_id'], 'org.example.stoa.test');
    assert.equal(devices[0]!['pushkey'], 'alice-key');
    assert.equal(typeof devices[0]!['pushkey_ts'], 'number');
    assert.deepEqual(devices[0]!['data'], { 'org.example.custom': 'kept' }, 'data without url');
    assert.deepEqual(devices[0]!['tweaks'], { sound: 'default', highlight: true });
    // Alice's own events are never pushed to her.
    assert.ok(received.every((b) => (b['notification'] as Json)['sender'] !== alice.userId));

    const res = await client(alice, 'GET', '/notifications?limit=5');
    expectSpecResponse(res, 'getNotifications');
    const listed = ((res.body as Json)['notifications'] as Json[]).find((n) => (n['event'] as Json)['event_id'] === eventId);
    assert.ok(listed, 'listed in /notifications');
    assert.equal(listed['room_id'], room);
    assert.equal(listed['read'], false);
    const highlights = await client(alice, 'GET', '/notifications?only=highlight');
    expectSpecResponse(highlights, 'getNotifications');
    assert.ok(((highlights.body as Json)['notifications'] as Json[]).every((n) => (n['actions'] as unknown[]).some((a) => typeof a === 'object' && (a as Json)['set_tweak'] === 'highlight')));
    expectMatrixError(await client(alice, 'GET', '/notifications?from=nonsense'), 400, 'M_INVALID_PARAM');

    const removed = await client(alice, 'POST', '/pushers/set', { kind: null, app_id: 'org.example.stoa.test', pushkey: 'alice-key' });
    expectSpecResponse(removed, 'postPusher');
    assert.deepEqual(await ok(client(alice, 'GET', '/pushers')), { pushers: [] });
  });
});

describe('client-server § Forming relationships between events: relations, threads, edits, reactions', () => {
  let room: string;
  let root: string;
  const replies: string[] = [];
  let reaction: string;
  let lastEdit: string;

  before(async () => {
    room = await createSharedRoom();
    root = await send(alice, room, 'm.room.message', { msgtype: 'm.text', body: 'root' });
    for (const body of ['first reply', 'second reply']) {
      replies.push(await send(bob, room, 'm.room.message', {
        msgtype: 'm.text',
        body,
        'm.relates_to': { rel_type: 'm.thread', event_id: root, is_falling_back: true, 'm.in_reply_to': { event_id: root } },
      }));
    }
    reaction = await send(bob, room, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: root, key: '👍' } });
    await send(alice, room, 'm.room.message', {
      msgtype: 'm.text', body: '* root v2', 'm.new_content': { msgtype: 'm.text', body: 'root v2' }, 'm.relates_to': { rel_type: 'm.replace', event_id: root },
    });
    lastEdit = await send(alice, room, 'm.room.message', {
      msgtype: 'm.text', body: '* root v3', 'm.new_content': { msgtype: 'm.text', body: 'root v3' }, 'm.relates_to': { rel_type: 'm.replace', event_id: root },
    });
    // Bob's "edit" of Alice's message is not a valid replacement (§ Validity of replacement events).
    await send(bob, room, 'm.room.message', {
      msgtype: 'm.text', body: '* hijack', 'm.new_content': { msgtype: 'm.text', body: 'hijack' }, 'm.relates_to': { rel_type: 'm.replace', event_id: root },
    });
  });

  test('§ Event annotations: a duplicate annotation is refused with M_DUPLICATE_ANNOTATION', async () => {
    const res = await client(bob, 'PUT', `/rooms/${enc(room)}/send/m.reaction/dup${++txn}`, {
      'm.relates_to': { rel_type: 'm.annotation', event_id: root, key: '👍' },
    });
    expectMatrixError(res, 400, 'M_DUPLICATE_ANNOTATION');
  });

  test('§ Threading: a thread cannot start from an event with a relation', async () => {
    const res = await client(bob, 'PUT', `/rooms/${enc(room)}/send/m.room.message/thr${++txn}`, {
      msgtype: 'm.text', body: 'nested', 'm.relates_to': { rel_type: 'm.thread', event_id: replies[0] },
    });
    expectMatrixError(res, 400, 'M_UNKNOWN');
  });

  test('GET /relations/{eventId}, by rel_type and by event type, paginated both ways', async () => {
    const all = await client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}`, undefined, 'v1');
    expectSpecResponse(all, 'getRelatingEvents');
    const ids = ((all.body as Json)['chunk'] as Json[]).map((e) => e['event_id']);
    assert.equal(ids.length, 6, 'two replies, a reaction and three edits');
    assert.ok(ids.includes(reaction) && replies.every((id) => ids.includes(id)));

    const thread = await client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}/m.thread`, undefined, 'v1');
    expectSpecResponse(thread, 'getRelatingEventsWithRelType');
    assert.deepEqual(((thread.body as Json)['chunk'] as Json[]).map((e) => e['event_id']), [...replies].reverse(), 'newest first');

    const reactions = await client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}/m.annotation/m.reaction`, undefined, 'v1');
    expectSpecResponse(reactions, 'getRelatingEventsWithRelTypeAndEventType');
    assert.deepEqual(((reactions.body as Json)['chunk'] as Json[]).map((e) => e['event_id']), [reaction]);

    const page1 = await ok(client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}/m.thread?limit=1`, undefined, 'v1'));
    assert.deepEqual((page1['chunk'] as Json[]).map((e) => e['event_id']), [replies[1]]);
    assert.equal(typeof page1['next_batch'], 'string');
    const page2 = await ok(client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}/m.thread?limit=1&from=${enc(page1['next_batch'] as string)}`, undefined, 'v1'));
    assert.deepEqual((page2['chunk'] as Json[]).map((e) => e['event_id']), [replies[0]]);
    const forward = await ok(client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}/m.thread?dir=f`, undefined, 'v1'));
    assert.deepEqual((forward['chunk'] as Json[]).map((e) => e['event_id']), replies);

    const recursed = await client(alice, 'GET', `/rooms/${enc(room)}/relations/${enc(root)}?recurse=true`, undefined, 'v1');
    expectSpecResponse(recursed, 'getRelatingEvents');
    assert.equal(typeof (recursed.body as Json)['recursion_depth'], 'number');

    const missing = await client(carol, 'GET', `/rooms/${enc(room)}/relations/${enc('$nosuchevent')}`, undefined, 'v1');
    expectMatrixError(missing, 404, 'M_NOT_FOUND');
    expectSpecResponse(missing, 'getRelatingEvents');
  });

  test('GET /threads lists the root with its summary; include=participated', async () => {
    const res = await client(alice, 'GET', `/rooms/${enc(room)}/threads`, undefined, 'v1');
    expectSpecResponse(res, 'getThreadRoots');
    const chunk = (res.body as Json)['chunk'] as Json[];
    assert.deepEqual(chunk.map((e) => e['event_id']), [root]);
    const summary = ((chunk[0]!['unsigned'] as Json)['m.relations'] as Json)['m.thread'] as Json;
    assert.equal(summary['count'], 2);
    assert.equal((summary['latest_event'] as Json)['event_id'], replies[1]);
    assert.equal(summary['current_user_participated'], true, 'alice sent the root');

    await ok(client(carol, 'POST', `/rooms/${enc(room)}/join`, {}));
    const none = await client(carol, 'GET', `/rooms/${enc(room)}/threads?include=participated`, undefined, 'v1');
    expectSpecResponse(none, 'getThreadRoots');
    assert.deepEqual((none.body as Json)['chunk'], []);
    const bobs = await ok(client(bob, 'GET', `/rooms/${enc(room)}/threads?include=participated`, undefined, 'v1'));
    assert.deepEqual((bobs['chunk'] as Json[]).map((e) => e['event_id']), [root]);
    expectMatrixError(await client(bob, 'GET', `/rooms/${enc(room)}/threads?include=some`, undefined, 'v1'), 400, 'M_INVALID_PARAM');
  });

  test('bundled aggregations in /messages and /event: the latest valid edit and the thread summary', async () => {
    const messages = await client(alice, 'GET', `/rooms/${enc(room)}/messages?dir=b&limit=50`);
    expectSpecResponse(messages, 'getRoomEvents');
    const rootEvent = ((messages.body as Json)['chunk'] as Json[]).find((e) => e['event_id'] === root);
    assert.ok(rootEvent);
    const relations = (rootEvent['unsigned'] as Json)['m.relations'] as Json;
    const edit = relations['m.replace'] as Json;
    assert.equal(edit['event_id'], lastEdit, 'the latest edit by the original sender');
    assert.equal(((edit['content'] as Json)['m.new_content'] as Json)['body'], 'root v3');
    assert.equal((rootEvent['content'] as Json)['body'], 'root', 'the original content is left intact');
    assert.equal((relations['m.thread'] as Json)['count'], 2);
    assert.equal(relations['m.annotation'], undefined, 'annotations are not aggregated');

    const single = await client(bob, 'GET', `/rooms/${enc(room)}/event/${enc(root)}`);
    expectSpecResponse(single, 'getOneRoomEvent');
    const bundled = ((single.body as Json)['unsigned'] as Json)['m.relations'] as Json;
    assert.equal((bundled['m.replace'] as Json)['event_id'], lastEdit);
    assert.equal((bundled['m.thread'] as Json)['current_user_participated'], true, 'bob replied');
  });

  test('a redacted edit no longer counts; the previous edit is bundled', async () => {
    await ok(client(alice, 'PUT', `/rooms/${enc(room)}/redact/${enc(lastEdit)}/r${++txn}`, {}));
    const event = await ok(client(alice, 'GET', `/rooms/${enc(room)}/event/${enc(root)}`));
    const edit = ((event['unsigned'] as Json)['m.relations'] as Json)['m.replace'] as Json;
    assert.equal(((edit['content'] as Json)['m.new_content'] as Json)['body'], 'root v2');
  });
});
