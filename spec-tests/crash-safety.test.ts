// Crash safety (issue 11 item 1): concurrent senders on a node that is killed with SIGKILL at
// random moments, again and again. After every restart:
// - every event acknowledged to a client (200 with an event_id) is still there and served;
// - a send whose answer was lost, retried with the same transaction ID, gets the event it
//   produced (if it was persisted) or a new one — never two events for one transaction;
// - acknowledged to-device messages still reach their device;
// - the federation queue resumes: the remote node ends up with every acknowledged event;
// - no half-written rows: edges, transaction IDs, forward extremities, current state and the
//   federation outbox name only events that exist, and every timeline event has its state.
// Runs on PostgreSQL (when STOA_TEST_POSTGRES_URL is set) and on the embedded PGlite.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const POSTGRES = process.env['STOA_TEST_POSTGRES_URL'] !== undefined && process.env['STOA_TEST_POSTGRES_URL'] !== '';
const SENDERS_PER_USER = 2;

const enc = encodeURIComponent;

function call(node: TestNode, user: RegisteredUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, { method, headers: authHeaders(user), ...(body === undefined ? {} : { body }) });
}

async function ok(node: TestNode, user: RegisteredUser, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await call(node, user, method, path, body);
  assert.equal(res.status, 200, `${method} ${path} answered ${res.status} ${res.text}`);
  return res.body as Record<string, unknown>;
}

interface Ledger {
  /** txn key (user|txnId) → event ID, for sends answered 200. */
  readonly acked: Map<string, string>;
  /** Sends whose answer never came (the node died under them). */
  readonly unknown: Map<string, { user: RegisteredUser; txnId: string; body: string }>;
  /** To-device message IDs whose PUT was answered 200. */
  readonly toDeviceAcked: Set<string>;
  /** Sends retried after a crash because their answer was lost. */
  retried: number;
}

/** Sends from every user until `stop` is set or the node dies under a request. */
async function senderLoop(
  node: TestNode,
  user: RegisteredUser,
  roomId: string,
  lane: string,
  ledger: Ledger,
  state: { stop: boolean; counter: number },
  toDevice?: { to: RegisteredUser },
): Promise<void> {
  while (!state.stop) {
    const n = state.counter++;
    const txnId = `crash-${lane}-${n}`;
    const body = `message ${user.userId} ${txnId}`;
    const key = `${user.userId}|${txnId}`;
    ledger.unknown.set(key, { user, txnId, body });
    let res: HttpResponse;
    try {
      res = await call(node, user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${txnId}`, { msgtype: 'm.text', body });
    } catch {
      return; // the node is gone; the send stays in `unknown`
    }
    if (res.status !== 200) return; // shutting down under us: also unknown
    ledger.unknown.delete(key);
    ledger.acked.set(key, String((res.body as { event_id: unknown }).event_id));

    if (toDevice !== undefined && n % 3 === 0) {
      const messageId = `td-${lane}-${n}`;
      try {
        const sent = await call(node, user, 'PUT', `/sendToDevice/m.crash.test/${messageId}`, {
          messages: { [toDevice.to.userId]: { [toDevice.to.deviceId]: { message_id: messageId } } },
        });
        if (sent.status === 200) ledger.toDeviceAcked.add(messageId);
      } catch {
        return;
      }
    }
  }
}

/** Runs the senders, kills the node with SIGKILL after a random moment, restarts it. */
async function killRounds(
  node: TestNode,
  senders: readonly RegisteredUser[],
  roomId: string,
  ledger: Ledger,
  rounds: number,
  toDevice: { from: RegisteredUser; to: RegisteredUser },
): Promise<void> {
  let lane = 0;
  for (let round = 0; round < rounds; round++) {
    const state = { stop: false, counter: 0 };
    const loops: Promise<void>[] = [];
    for (const user of senders) {
      for (let i = 0; i < SENDERS_PER_USER; i++) {
        const withToDevice = user === toDevice.from && i === 0 ? { to: toDevice.to } : undefined;
        loops.push(senderLoop(node, user, roomId, `${round}-${lane++}`, ledger, state, withToDevice));
      }
    }
    await sleep(150 + Math.floor(Math.random() * 900));
    process.kill(node.pid, 'SIGKILL');
    const exit = await node.exited;
    assert.equal(exit.signal, 'SIGKILL', `round ${round}: the node was killed, not stopped`);
    state.stop = true;
    await Promise.all(loops);
    await node.restart();

    // Sends whose answer was lost: the same transaction ID again. Idempotency across the
    // crash means one event per transaction, whichever side of the crash it landed.
    for (const [key, pending] of ledger.unknown) {
      const res = await ok(node, pending.user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${pending.txnId}`, { msgtype: 'm.text', body: pending.body });
      ledger.acked.set(key, String(res['event_id']));
      ledger.unknown.delete(key);
      ledger.retried++;
    }
    // And a few acknowledged ones: the answer must be the event the first send produced.
    for (const [key, eventId] of [...ledger.acked].slice(-3)) {
      const [userId, txnId] = key.split('|') as [string, string];
      const user = senders.find((u) => u.userId === userId)!;
      const res = await ok(node, user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${txnId}`, { msgtype: 'm.text', body: 'retry' });
      assert.equal(res['event_id'], eventId, `round ${round}: retry of ${txnId} after the crash gave another event`);
    }
  }
}

async function timelineBodies(node: TestNode, user: RegisteredUser, roomId: string): Promise<Map<string, string>> {
  const byEventId = new Map<string, string>();
  let from: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ dir: 'b', limit: '500' });
    if (from !== undefined) query.set('from', from);
    const page = await ok(node, user, 'GET', `/rooms/${enc(roomId)}/messages?${query}`);
    const chunk = page['chunk'] as Array<{ event_id: string; type: string; content: { body?: string } }>;
    for (const event of chunk) if (event.type === 'm.room.message') byEventId.set(event.event_id, String(event.content.body));
    if (chunk.length === 0 || typeof page['end'] !== 'string') return byEventId;
    from = page['end'];
  }
}

async function checkTimeline(node: TestNode, reader: RegisteredUser, roomId: string, ledger: Ledger): Promise<void> {
  const timeline = await timelineBodies(node, reader, roomId);
  for (const [key, eventId] of ledger.acked) assert.ok(timeline.has(eventId), `acknowledged ${key} (${eventId}) is missing after the crashes`);
  const bodies = [...timeline.values()];
  assert.equal(new Set(bodies).size, bodies.length, 'a transaction produced two events');
}

async function drainToDevice(node: TestNode, user: RegisteredUser): Promise<Set<string>> {
  const seen = new Set<string>();
  let since: string | undefined;
  for (let i = 0; i < 200; i++) {
    const query = new URLSearchParams({ timeout: '0' });
    if (since !== undefined) query.set('since', since);
    const sync = await ok(node, user, 'GET', `/sync?${query}`);
    const events = ((sync['to_device'] as { events?: Array<{ type: string; content: { message_id?: string } }> } | undefined)?.events ?? []).filter(
      (e) => e.type === 'm.crash.test',
    );
    for (const event of events) seen.add(String(event.content.message_id));
    since = String(sync['next_batch']);
    if (events.length === 0 && i > 0) return seen;
  }
  return seen;
}

/** Rows that name events which do not exist, and timeline events without their state. */
const INTEGRITY_QUERIES: ReadonlyArray<[string, string]> = [
  ['edges naming a missing event', 'SELECT count(*)::int AS n FROM event_edges e LEFT JOIN events v ON v.event_id = e.event_id WHERE v.event_id IS NULL'],
  ['auth edges naming a missing event', 'SELECT count(*)::int AS n FROM event_auth e LEFT JOIN events v ON v.event_id = e.event_id WHERE v.event_id IS NULL'],
  ['transaction IDs naming a missing event', 'SELECT count(*)::int AS n FROM event_transactions t LEFT JOIN events v ON v.event_id = t.event_id WHERE v.event_id IS NULL'],
  ['forward extremities naming a missing event', 'SELECT count(*)::int AS n FROM forward_extremities f LEFT JOIN events v ON v.event_id = f.event_id WHERE v.event_id IS NULL'],
  ['current state naming a missing event', 'SELECT count(*)::int AS n FROM current_state c LEFT JOIN events v ON v.event_id = c.event_id WHERE v.event_id IS NULL'],
  ['outbox rows naming a missing event', 'SELECT count(*)::int AS n FROM federation_outbox o LEFT JOIN events v ON v.event_id = o.event_id WHERE o.event_id IS NOT NULL AND v.event_id IS NULL'],
  ['timeline events without state', 'SELECT count(*)::int AS n FROM events WHERE NOT outlier AND stream_ordering IS NOT NULL AND state_before_snapshot_id IS NULL'],
];

async function checkIntegrity(query: (sql: string) => Promise<number>): Promise<void> {
  for (const [what, sql] of INTEGRITY_QUERIES) assert.equal(await query(sql), 0, `half-written rows: ${what}`);
}

describe(`crash safety on ${POSTGRES ? 'PostgreSQL' : 'PGlite'} with a federating peer: 14 kills`, () => {
  let a: TestNode;
  let b: TestNode;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let carol: RegisteredUser;
  let roomId: string;
  const ledger: Ledger = { acked: new Map(), unknown: new Map(), toDeviceAcked: new Set(), retried: 0 };

  before(async () => {
    [a, b] = (await startNodes(2, { tls: true, ...(POSTGRES ? { engine: 'postgres' as const } : {}) })) as [TestNode, TestNode];
    [alice, bob, carol] = await Promise.all([registerUser(a, 'alice'), registerUser(a, 'bob'), registerUser(b, 'carol')]);
    roomId = String((await ok(a, alice, 'POST', '/createRoom', { preset: 'public_chat', name: 'crash room' }))['room_id']);
    await ok(a, bob, 'POST', `/join/${enc(roomId)}`, {});
    await ok(b, carol, 'POST', `/join/${enc(roomId)}?server_name=${enc(a.serverName)}`, {});
  });
  after(() => stopNodes([a, b].filter((n) => n !== undefined)));

  test('server-server § 14 SIGKILLs under concurrent senders lose nothing acknowledged', async (t) => {
    await killRounds(a, [alice, bob], roomId, ledger, 14, { from: alice, to: bob });
    t.diagnostic(`${ledger.acked.size} events acknowledged, ${ledger.retried} sends retried after losing their answer, ${ledger.toDeviceAcked.size} to-device messages`);
    assert.ok(ledger.acked.size > 14, `senders made progress (${ledger.acked.size} events)`);
    await checkTimeline(a, bob, roomId, ledger);
  });

  test('client-server § send-to-device: acknowledged to-device messages survive the crashes', async () => {
    const delivered = await drainToDevice(a, bob);
    for (const messageId of ledger.toDeviceAcked) assert.ok(delivered.has(messageId), `to-device ${messageId} was lost`);
  });

  test('server-server § transactions: the federation queue resumes and the peer gets every event', async () => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const timeline = await timelineBodies(b, carol, roomId);
      const missing = [...ledger.acked.values()].filter((id) => !timeline.has(id));
      if (missing.length === 0) break;
      if (Date.now() > deadline) assert.fail(`${missing.length} acknowledged events never reached the peer, e.g. ${missing[0]}`);
      await sleep(1000);
    }
  });

  test('no half-written rows after the crashes', async () => {
    await a.halt();
    if (POSTGRES) {
      const client = new pg.Client({ connectionString: String((a.config['database'] as { url: string }).url) });
      await client.connect();
      try {
        await checkIntegrity(async (sql) => Number((await client.query<{ n: number }>(sql)).rows[0]?.n));
      } finally {
        await client.end();
      }
    } else {
      const db = await PGlite.create(`${a.dataDir}/db`);
      try {
        await checkIntegrity(async (sql) => Number((await db.query<{ n: number }>(sql)).rows[0]?.n));
      } finally {
        await db.close();
      }
    }
  });
});

describe('crash safety on the embedded PGlite: 6 kills', { skip: !POSTGRES && 'the federating suite above already runs on PGlite' }, () => {
  let node: TestNode;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let roomId: string;
  const ledger: Ledger = { acked: new Map(), unknown: new Map(), toDeviceAcked: new Set(), retried: 0 };

  before(async () => {
    [node] = (await startNodes(1)) as [TestNode];
    [alice, bob] = await Promise.all([registerUser(node, 'alice'), registerUser(node, 'bob')]);
    roomId = String((await ok(node, alice, 'POST', '/createRoom', { preset: 'public_chat' }))['room_id']);
    await ok(node, bob, 'POST', `/join/${enc(roomId)}`, {});
  });
  after(() => stopNodes(node === undefined ? [] : [node]));

  test('client-server § sends: 6 SIGKILLs lose nothing acknowledged, to-device included', async (t) => {
    await killRounds(node, [alice, bob], roomId, ledger, 6, { from: alice, to: bob });
    t.diagnostic(`${ledger.acked.size} events acknowledged, ${ledger.retried} sends retried after losing their answer, ${ledger.toDeviceAcked.size} to-device messages`);
    await checkTimeline(node, bob, roomId, ledger);
    const delivered = await drainToDevice(node, bob);
    for (const messageId of ledger.toDeviceAcked) assert.ok(delivered.has(messageId), `to-device ${messageId} was lost`);
  });

  test('no half-written rows after the crashes', async () => {
    await node.halt();
    const db = await PGlite.create(`${node.dataDir}/db`);
    try {
      await checkIntegrity(async (sql) => Number((await db.query<{ n: number }>(sql)).rows[0]?.n));
    } finally {
      await db.close();
    }
  });
});
