// The operator's Prometheus metrics on a real node (issue 12 item 4): events persisted,
// /sync and sliding-sync long-polls waiting, the federation queue, state resolution, the
// database pool, the application-service queues and Node's process metrics, scraped from
// the metrics listener's `/metrics` (Prometheus text exposition format). The client calls
// are checked against the spec's OpenAPI (client-server § "Syncing", § "Sending events to
// a room").

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

const SS_PATH = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';

let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let roomId: string;
let txn = 0;

/** One sample line: `name{label="value",...} number`. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  /** Families announced with `# TYPE` (present even with no samples). */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

async function scrape(): Promise<Scrape> {
  const res = await request(`${node.metricsUrl}/metrics`);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of res.text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

/** The value of the one sample of `name` whose labels include `labels`. */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]!.value;
}

/** Scrapes until `ready` holds; the long-poll's request reaches the server asynchronously. */
async function scrapeUntil(ready: (s: Scrape) => boolean, what: string): Promise<Scrape> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const s = await scrape();
    if (ready(s)) return s;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`never saw ${what}`);
}

function call(user: RegisteredUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, { method, headers: authHeaders(user), ...(body === undefined ? {} : { body }) });
}

async function sendMessage(user: RegisteredUser, body: string): Promise<string> {
  const res = await call(user, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/m${++txn}`, { msgtype: 'm.text', body });
  expectSpecResponse(res, 'sendMessage');
  assert.equal(res.status, 200, res.text);
  return (res.body as Json)['event_id'] as string;
}

before(async () => {
  [node] = (await startNodes(1, testPostgresUrl() === undefined ? {} : { engine: 'postgres' })) as [TestNode];
  alice = await registerUser(node, 'alice');
  bob = await registerUser(node, 'bob');
  const created = await call(alice, 'POST', '/createRoom', { preset: 'public_chat' });
  expectSpecResponse(created, 'createRoom');
  roomId = (created.body as Json)['room_id'] as string;
  const joined = await call(bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  expectSpecResponse(joined, 'joinRoom');
});

after(() => stopNodes([node]));

test('metrics § every operator family is exported with its type', async () => {
  const s = await scrape();
  const expected: Record<string, string> = {
    stoa_events_persisted_total: 'counter',
    stoa_sync_waiters: 'gauge',
    stoa_federation_queue_depth: 'gauge',
    stoa_federation_destination_failures: 'gauge',
    stoa_state_resolution_seconds: 'histogram',
    stoa_db_pool_connections: 'gauge',
    stoa_appservice_queue_depth: 'gauge',
    stoa_http_requests_total: 'counter',
    stoa_http_request_duration_seconds: 'histogram',
    stoa_process_resident_memory_bytes: 'gauge',
    stoa_nodejs_eventloop_lag_p99_seconds: 'gauge',
  };
  for (const [name, type] of Object.entries(expected)) assert.equal(s.types.get(name), type, name);
  // Prometheus conventions: counters end in _total, durations are in seconds.
  for (const [name, type] of s.types) {
    if (!name.startsWith('stoa_')) assert.fail(`unprefixed family ${name}`);
    if (type === 'counter') assert.match(name, /_total$/, name);
  }
});

test('metrics § stoa_events_persisted_total counts each message sent, as local', async () => {
  const before = await scrape();
  const local = value(before, 'stoa_events_persisted_total', { origin: 'local' });
  // The room's creation and bob's join were persisted already.
  assert.ok(local >= 2, `local events so far: ${local}`);
  for (let i = 0; i < 5; i++) await sendMessage(i % 2 === 0 ? alice : bob, `message ${i}`);
  const afterSend = await scrape();
  assert.equal(value(afterSend, 'stoa_events_persisted_total', { origin: 'local' }), local + 5);
  assert.equal(value(afterSend, 'stoa_events_persisted_total', { origin: 'federation' }), value(before, 'stoa_events_persisted_total', { origin: 'federation' }));
});

test('metrics § stoa_sync_waiters: a /sync long-poll counts while it waits, not after (client-server § Syncing)', async () => {
  const initial = await call(bob, 'GET', '/sync');
  expectSpecResponse(initial, 'sync');
  const since = (initial.body as Json)['next_batch'] as string;
  assert.equal(value(await scrape(), 'stoa_sync_waiters', { kind: 'sync' }), 0);

  const poll = call(bob, 'GET', `/sync?since=${encodeURIComponent(since)}&timeout=60000`);
  const waiting = await scrapeUntil((s) => value(s, 'stoa_sync_waiters', { kind: 'sync' }) >= 1, 'a sync waiter');
  assert.equal(value(waiting, 'stoa_sync_waiters', { kind: 'sync' }), 1);
  assert.equal(value(waiting, 'stoa_sync_waiters', { kind: 'sliding_sync' }), 0);

  const eventId = await sendMessage(alice, 'wake up');
  const woken = await poll;
  expectSpecResponse(woken, 'sync');
  const timeline = (((woken.body as Json)['rooms'] as Json)['join'] as Record<string, Json>)[roomId]?.['timeline'] as Json;
  assert.ok((timeline['events'] as Json[]).some((e) => e['event_id'] === eventId), 'the message woke the poll');
  assert.equal(value(await scrape(), 'stoa_sync_waiters', { kind: 'sync' }), 0);

  // timeout=0 never waits, so it never counts; the sync label stays at 0 across it.
  const immediate = await call(bob, 'GET', `/sync?since=${encodeURIComponent(((woken.body as Json)['next_batch'] as string))}&timeout=0`);
  expectSpecResponse(immediate, 'sync');
  assert.equal(value(await scrape(), 'stoa_sync_waiters', { kind: 'sync' }), 0);
});

test('metrics § stoa_sync_waiters: a sliding-sync (MSC4186) long-poll counts with kind="sliding_sync"', async () => {
  const body = { lists: { all: { ranges: [[0, 9]], required_state: [], timeline_limit: 1 } } };
  const first = await request(`${node.clientUrl}${SS_PATH}`, { method: 'POST', headers: authHeaders(bob), body });
  assert.equal(first.status, 200, first.text);
  const pos = (first.body as Json)['pos'] as string;
  assert.equal(typeof pos, 'string');

  const poll = request(`${node.clientUrl}${SS_PATH}?pos=${encodeURIComponent(pos)}&timeout=60000`, { method: 'POST', headers: authHeaders(bob), body });
  const waiting = await scrapeUntil((s) => value(s, 'stoa_sync_waiters', { kind: 'sliding_sync' }) >= 1, 'a sliding-sync waiter');
  assert.equal(value(waiting, 'stoa_sync_waiters', { kind: 'sliding_sync' }), 1);
  assert.equal(value(waiting, 'stoa_sync_waiters', { kind: 'sync' }), 0);

  await sendMessage(alice, 'wake the sliding sync');
  const woken = await poll;
  assert.equal(woken.status, 200, woken.text);
  assert.notEqual((woken.body as Json)['pos'], pos);
  assert.equal(value(await scrape(), 'stoa_sync_waiters', { kind: 'sliding_sync' }), 0);
});

test('metrics § stoa_db_pool_connections reports the pool by state', async () => {
  const s = await scrape();
  const total = value(s, 'stoa_db_pool_connections', { state: 'total' });
  const idle = value(s, 'stoa_db_pool_connections', { state: 'idle' });
  const waiting = value(s, 'stoa_db_pool_connections', { state: 'waiting' });
  assert.ok(total >= 1, `total ${total}`);
  assert.ok(idle >= 0 && idle <= total, `idle ${idle} of ${total}`);
  assert.ok(waiting >= 0, `waiting ${waiting}`);
  if (testPostgresUrl() === undefined) assert.deepEqual([total, idle, waiting], [1, 0, 0], 'PGlite: one connection');
});

test('metrics § federation and state-resolution families hold plausible values', async () => {
  const s = await scrape();
  // No other server was ever contacted: nothing queued, nothing failed.
  for (const sample of s.samples.filter((x) => x.name === 'stoa_federation_queue_depth' || x.name === 'stoa_federation_destination_failures')) {
    assert.ok(sample.value >= 0 && Number.isInteger(sample.value), JSON.stringify(sample));
  }
  // A single-server room never forks, so no resolution ran; the histogram is still there.
  const count = value(s, 'stoa_state_resolution_seconds_count');
  assert.ok(count >= 0);
  assert.ok(value(s, 'stoa_process_resident_memory_bytes') > 1024 * 1024);
  assert.ok(value(s, 'stoa_nodejs_eventloop_lag_p99_seconds') >= 0);
});
