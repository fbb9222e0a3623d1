// Incoming webhooks on a real node (issue 10 item 3): an admin binds a webhook to a room
// and a sender; a business system posts JSON or text with the webhook's secret, and the
// message reaches another member's /sync (client-server § "Syncing") as an m.room.message
// from the sender (§ "m.room.message msgtypes"). Secrets are shown once and hashed at rest;
// wrong, missing or revoked secrets send nothing; the room's auth rules apply; posts are
// rate limited per webhook; creation and revocation are in the admin audit log.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

const BURST = 3;
let node: TestNode;
let admin: RegisteredUser;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;
let room: string;
let since: string;
const enc = encodeURIComponent;

const { call } = clientCalls(() => node.clientUrl);
async function createWebhook(sender: RegisteredUser, name: string, roomId = room): Promise<{ id: string; secret: string; body: Json }> {
  const body = await ok(call(admin, 'POST', '/_stoa/admin/v1/webhooks', { room_id: roomId, sender: sender.userId, name }));
  return { id: body['webhook_id'] as string, secret: body['secret'] as string, body };
}
async function post(id: string, init: { secret?: string; query?: string; body?: unknown; contentType?: string }): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (init.secret !== undefined) headers['Authorization'] = `Bearer ${init.secret}`;
  if (init.contentType !== undefined) headers['content-type'] = init.contentType;
  return request(`${node.clientUrl}/_stoa/hooks/v1/${enc(id)}${init.query ?? ''}`, { method: 'POST', headers, ...(init.body === undefined ? {} : { body: init.body }) });
}
/** Bob's timeline events in `room` since the last call. */
async function bobSees(): Promise<Json[]> {
  const res = await call(bob, 'GET', `/_matrix/client/v3/sync?since=${enc(since)}&timeout=0`);
  expectSpecResponse(res, 'sync');
  const body = res.body as Json;
  since = body['next_batch'] as string;
  const joined = ((body['rooms'] as Json | undefined)?.['join'] as Record<string, Json> | undefined)?.[room];
  return ((joined?.['timeline'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
}

before(async () => {
  [node] = (await startNodes(1, {
    ...(testPostgresUrl() === undefined ? {} : { engine: 'postgres' as const }),
    configOverrides: { rate_limits: { enabled: true, message: { per_second: 0.001, burst: BURST }, failed_login: { per_second: 0.001, burst: 50 } } },
  })) as [TestNode];
  admin = await registerUser(node, 'admin', { admin: true });
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  carol = await registerUser(node, 'carol');
  const created = await call(alice, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' });
  expectSpecResponse(created, 'createRoom');
  room = (created.body as Json)['room_id'] as string;
  expectSpecResponse(await call(bob, 'POST', `/_matrix/client/v3/rooms/${enc(room)}/join`, {}), 'joinRoomById');
  const sync = await call(bob, 'GET', '/_matrix/client/v3/sync?timeout=0');
  expectSpecResponse(sync, 'sync');
  since = (sync.body as Json)['next_batch'] as string;
});
after(() => stopNodes([node]));

describe('incoming webhooks', () => {
  let hook: { id: string; secret: string; body: Json };

  test('POST /_stoa/admin/v1/webhooks: admins create; the secret is returned once', async () => {
    hook = await createWebhook(alice, 'CI notifications');
    const body = hook.body;
    assert.match(hook.id, /^wh_/);
    assert.ok(hook.secret.length >= 40, 'a long random secret');
    assert.equal(body['room_id'], room);
    assert.equal(body['sender'], alice.userId);
    assert.equal(body['name'], 'CI notifications');
    assert.equal(body['created_by'], admin.userId);
    assert.equal(body['revoked_ts'], null);
    assert.equal(body['url'], `/_stoa/hooks/v1/${hook.id}`);

    const listed = await ok(call(admin, 'GET', '/_stoa/admin/v1/webhooks'));
    const entry = (listed['webhooks'] as Json[]).find((w) => w['webhook_id'] === hook.id);
    assert.ok(entry);
    assert.ok(!JSON.stringify(listed).includes(hook.secret), 'the secret is never listed');
    assert.equal(entry['secret'], undefined);
    assert.equal(entry['secret_hash'], undefined);
    const one = await ok(call(admin, 'GET', `/_stoa/admin/v1/webhooks/${hook.id}`));
    assert.equal(one['secret'], undefined);

    expectMatrixError(await call(alice, 'POST', '/_stoa/admin/v1/webhooks', { room_id: room, sender: alice.userId, name: 'x' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(alice, 'GET', '/_stoa/admin/v1/webhooks'), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(admin, 'POST', '/_stoa/admin/v1/webhooks', { room_id: room, sender: '@x:elsewhere.example', name: 'x' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(admin, 'POST', '/_stoa/admin/v1/webhooks', { room_id: room, sender: `@ghost:${node.serverName}`, name: 'x' }), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'POST', '/_stoa/admin/v1/webhooks', { room_id: `!nope:${node.serverName}`, sender: alice.userId, name: 'x' }), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(admin, 'POST', '/_stoa/admin/v1/webhooks', { room_id: room, sender: alice.userId }), 400, 'M_BAD_JSON');
  });

  test('a JSON post (Bearer secret) appears in another member\'s /sync as the sender', async () => {
    const res = await post(hook.id, { secret: hook.secret, body: { text: 'Build #42 passed', html: '<b>Build #42</b> passed', msgtype: 'm.notice' } });
    assert.equal(res.status, 200, res.text);
    const eventId = (res.body as Json)['event_id'] as string;
    assert.match(eventId, /^\$/);
    const events = await bobSees();
    const event = events.find((e) => e['event_id'] === eventId);
    assert.ok(event, 'bob sees the webhook message');
    assert.equal(event['sender'], alice.userId);
    assert.equal(event['type'], 'm.room.message');
    assert.deepEqual(event['content'], { msgtype: 'm.notice', body: 'Build #42 passed', format: 'org.matrix.custom.html', formatted_body: '<b>Build #42</b> passed' });
  });

  test('a text/plain post with ?secret= appears too', async () => {
    const res = await post(hook.id, { query: `?secret=${enc(hook.secret)}`, body: 'Deploy finished', contentType: 'text/plain; charset=utf-8' });
    assert.equal(res.status, 200, res.text);
    const event = (await bobSees()).find((e) => e['event_id'] === (res.body as Json)['event_id']);
    assert.deepEqual(event?.['content'], { msgtype: 'm.text', body: 'Deploy finished' });
  });

  test('wrong, missing or unknown credentials: 401 M_UNAUTHORIZED and nothing is sent', async () => {
    expectMatrixError(await post(hook.id, { secret: `${hook.secret}x`, body: { text: 'forged' } }), 401, 'M_UNAUTHORIZED');
    expectMatrixError(await post(hook.id, { secret: 'whsec_guess', body: { text: 'forged' } }), 401, 'M_UNAUTHORIZED');
    expectMatrixError(await post(hook.id, { body: { text: 'forged' } }), 401, 'M_UNAUTHORIZED');
    expectMatrixError(await post('wh_unknown', { secret: hook.secret, body: { text: 'forged' } }), 401, 'M_UNAUTHORIZED');
    // A user's access token is not a webhook secret.
    expectMatrixError(await post(hook.id, { secret: alice.accessToken, body: { text: 'forged' } }), 401, 'M_UNAUTHORIZED');
    assert.deepEqual(await bobSees(), [], 'no message reached the room');
  });

  test('bad bodies are refused with the spec\'s errors, not a 500', async () => {
    // Refused posts count against the webhook's rate limit too: one webhook per pair.
    const first = await createWebhook(alice, 'bad bodies 1');
    expectMatrixError(await post(first.id, { secret: first.secret, body: { html: '' } }), 400, 'M_BAD_JSON');
    expectMatrixError(await post(first.id, { secret: first.secret, body: { text: 'x', msgtype: 'm.image' } }), 400, 'M_BAD_JSON');
    const second = await createWebhook(alice, 'bad bodies 2');
    expectMatrixError(await post(second.id, { secret: second.secret, body: '{not json', contentType: 'application/json' }), 400, 'M_NOT_JSON');
    expectMatrixError(await post(second.id, { secret: second.secret, body: new Uint8Array([1, 2]), contentType: 'application/octet-stream' }), 400, 'M_NOT_JSON');
    assert.deepEqual(await bobSees(), []);
  });

  test('the room\'s auth rules apply: a sender who is not in the room cannot post', async () => {
    const outsider = await createWebhook(carol, 'outsider');
    expectMatrixError(await post(outsider.id, { secret: outsider.secret, body: { text: 'hello?' } }), 403, 'M_FORBIDDEN');
    assert.deepEqual(await bobSees(), []);
  });

  test('posts are rate limited per webhook: 429 M_LIMIT_EXCEEDED after the burst', async () => {
    const busy = await createWebhook(alice, 'busy');
    for (let i = 0; i < BURST; i++) assert.equal((await post(busy.id, { secret: busy.secret, body: { text: `tick ${i}` } })).status, 200);
    const limited = await post(busy.id, { secret: busy.secret, body: { text: 'one too many' } });
    expectMatrixError(limited, 429, 'M_LIMIT_EXCEEDED');
    // Another webhook has its own budget.
    const calm = await createWebhook(alice, 'calm');
    assert.equal((await post(calm.id, { secret: calm.secret, body: { text: 'calm' } })).status, 200);
    const bodies = (await bobSees()).map((e) => (e['content'] as Json)['body']);
    assert.deepEqual(bodies, ['tick 0', 'tick 1', 'tick 2', 'calm']);
  });

  test('DELETE /_stoa/admin/v1/webhooks/{id} revokes: posts are refused with 403 M_FORBIDDEN', async () => {
    assert.deepEqual(await ok(call(admin, 'DELETE', `/_stoa/admin/v1/webhooks/${hook.id}`)), {});
    expectMatrixError(await post(hook.id, { secret: hook.secret, body: { text: 'after revocation' } }), 403, 'M_FORBIDDEN');
    assert.deepEqual(await bobSees(), []);
    expectMatrixError(await call(admin, 'DELETE', `/_stoa/admin/v1/webhooks/${hook.id}`), 404, 'M_NOT_FOUND');
    const active = await ok(call(admin, 'GET', '/_stoa/admin/v1/webhooks'));
    assert.ok(!(active['webhooks'] as Json[]).some((w) => w['webhook_id'] === hook.id));
    const all = await ok(call(admin, 'GET', '/_stoa/admin/v1/webhooks?include_revoked=true'));
    const revoked = (all['webhooks'] as Json[]).find((w) => w['webhook_id'] === hook.id);
    assert.equal(typeof revoked?.['revoked_ts'], 'number');
    assert.equal(typeof revoked?.['last_used_ts'], 'number');
  });

  test('creation and revocation are audit-logged; posts are logged without the secret', async () => {
    const log = await ok(call(admin, 'GET', '/_stoa/admin/v1/audit_log?limit=1000'));
    const entries = log['entries'] as Json[];
    const created = entries.find((e) => e['action'] === 'create-webhook' && e['target'] === hook.id);
    assert.ok(created);
    assert.equal(created['actor'], admin.userId);
    assert.deepEqual(created['details'], { room_id: room, sender: alice.userId, name: 'CI notifications' });
    assert.ok(entries.some((e) => e['action'] === 'revoke-webhook' && e['target'] === hook.id));
    assert.ok(!JSON.stringify(entries).includes(hook.secret), 'no secret in the audit log');

    const logs = node.logs();
    assert.match(logs, new RegExp(`"webhook_id":"${hook.id}".*"msg":"webhook post"`));
    assert.match(logs, /"msg":"webhook post refused"/);
    assert.ok(!logs.includes(hook.secret), 'no secret in the server log');
  });
});

// This node has rate limits on, so the admin API's per-user overrides are tested here too.
describe('admin API: rate-limit overrides (user_admin_api.md § Override ratelimiting for users)', () => {
  test('override_ratelimit: GET/POST/DELETE shapes; 0 exempts the user from the message limit', async () => {
    const created = await call(carol, 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat' });
    expectSpecResponse(created, 'createRoom');
    const own = (created.body as Json)['room_id'] as string;
    let txn = 0;
    const sendAsCarol = (): Promise<HttpResponse> =>
      call(carol, 'PUT', `/_matrix/client/v3/rooms/${enc(own)}/send/m.room.message/o${++txn}`, { msgtype: 'm.text', body: `n${txn}` });
    for (let i = 0; i < BURST; i++) expectSpecResponse(await sendAsCarol(), 'sendMessage');
    expectMatrixError(await sendAsCarol(), 429, 'M_LIMIT_EXCEEDED');

    const path = `/_synapse/admin/v1/users/${enc(carol.userId)}/override_ratelimit`;
    assert.deepEqual(await ok(call(admin, 'GET', path)), {});
    expectMatrixError(await call(carol, 'POST', path, { messages_per_second: 0 }), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(admin, 'POST', path, { messages_per_second: -1 }), 400, 'M_BAD_JSON');
    assert.deepEqual(await ok(call(admin, 'POST', path, { messages_per_second: 0, burst_count: 0 })), { messages_per_second: 0, burst_count: 0 });
    assert.deepEqual(await ok(call(admin, 'GET', path)), { messages_per_second: 0, burst_count: 0 });
    for (let i = 0; i < BURST + 2; i++) expectSpecResponse(await sendAsCarol(), 'sendMessage');

    // A limit of its own replaces the exemption (its timing is not tested: no clocks in tests).
    assert.deepEqual(await ok(call(admin, 'POST', path, { messages_per_second: 5, burst_count: 20 })), { messages_per_second: 5, burst_count: 20 });
    assert.deepEqual(await ok(call(admin, 'GET', path)), { messages_per_second: 5, burst_count: 20 });
    expectSpecResponse(await sendAsCarol(), 'sendMessage');

    assert.deepEqual(await ok(call(admin, 'DELETE', path)), {});
    assert.deepEqual(await ok(call(admin, 'GET', path)), {});
    expectMatrixError(await sendAsCarol(), 429, 'M_LIMIT_EXCEEDED');
    expectMatrixError(await call(admin, 'GET', `/_synapse/admin/v1/users/${enc(`@ghost:${node.serverName}`)}/override_ratelimit`), 404, 'M_NOT_FOUND');

    const log = await ok(call(admin, 'GET', '/_stoa/admin/v1/audit_log?limit=1000'));
    const actions = (log['entries'] as Json[]).filter((e) => e['target'] === carol.userId).map((e) => e['action']);
    assert.deepEqual(actions, ['set-ratelimit-override', 'set-ratelimit-override', 'delete-ratelimit-override']);
  });
});
