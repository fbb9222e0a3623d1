// The durable sender (server-server § "Transactions": at most 50 PDUs and 100 EDUs, one
// transaction in flight per destination; issue 5 item 6: backoff with a cap, restart from
// the table, catch-up after an outage) over real rooms in a real database, with a fake
// transport and fake timers.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JsonObject } from '../../rooms/json.ts';
import { localRoomserver, RemoteServer, silentLogger, testKey, TestKeyring } from '../../roomserver/testing.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { FederationOutboxRepository } from '../../storage/federation-outbox-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { FederationConnectionError, RemoteMatrixError } from '../client/errors.ts';
import { retryIntervalMs } from './backoff.ts';
import { transactionId } from './destination-queue.ts';
import { FederationSender } from './federation-sender.ts';
import type { SenderTimers } from './timers.ts';
import type { TransactionBody, TransactionTransport } from './transport.ts';

const ALICE = '@alice:local.test';

class FakeTimers implements SenderTimers {
  now = 1_700_000_000_000;
  #pending: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  readonly clock = (): number => this.now;

  schedule(fn: () => void, delayMs: number): () => void {
    const entry = { at: this.now + delayMs, fn, cancelled: false };
    this.#pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /** The delays of the timers still pending, from now. */
  pendingDelays(): number[] {
    return this.#pending.filter((e) => !e.cancelled).map((e) => e.at - this.now);
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.#pending.filter((e) => !e.cancelled && e.at <= this.now);
    this.#pending = this.#pending.filter((e) => !due.includes(e) && !e.cancelled);
    for (const entry of due) entry.fn();
  }
}

interface SentTransaction {
  readonly destination: string;
  readonly txnId: string;
  readonly body: TransactionBody;
}

class FakeTransport implements TransactionTransport {
  readonly sent: SentTransaction[] = [];
  failWith: Error | undefined;
  inFlight = new Map<string, number>();
  maxInFlight = 0;
  /** When set, each send waits for this before answering. */
  gate: Promise<void> | undefined;

  async sendTransaction(destination: string, txnId: string, body: TransactionBody): Promise<JsonObject> {
    const n = (this.inFlight.get(destination) ?? 0) + 1;
    this.inFlight.set(destination, n);
    this.maxInFlight = Math.max(this.maxInFlight, n);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.gate !== undefined) await this.gate;
      if (this.failWith !== undefined) throw this.failWith;
      this.sent.push({ destination, txnId, body });
      return { pdus: {} };
    } finally {
      this.inFlight.set(destination, (this.inFlight.get(destination) ?? 1) - 1);
    }
  }

  eventIds(destination: string): string[] {
    return this.sent.filter((t) => t.destination === destination).flatMap((t) => t.body.pdus.map((p) => String(p['event_id'] ?? '')));
  }
}

function publicRoom(): Array<{ type: string; stateKey: string; content: JsonObject }> {
  return [
    { type: 'm.room.power_levels', stateKey: '', content: { users: { [ALICE]: 100 }, users_default: 0 } },
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
  ];
}

describeEngines('federation sender', (getDb) => {
  const keyring = new TestKeyring();
  const remote = new RemoteServer('remote.test', testKey(2));
  const other = new RemoteServer('other.test', testKey(3));
  keyring.add(remote.serverName, remote.key);
  keyring.add(other.serverName, other.key);
  let rs: Roomserver;

  before(() => {
    rs = localRoomserver(getDb(), keyring, undefined, { queueFederation: true });
  });

  /** A v10 room (event IDs in the JSON are absent from v3 on, so ids come from the outbox) with remote joined users. */
  async function roomWith(remotes: readonly RemoteServer[]): Promise<string> {
    const { roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '10', initialState: publicRoom() });
    for (const server of remotes) {
      const user = `@u:${server.serverName}`;
      const join = await server.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: user, sender: user, content: { membership: 'join' } });
      const result = await rs.receivePdu(join, server.serverName, { roomVersion: '10' });
      assert.equal(result.outcome, 'accepted');
    }
    return roomId;
  }

  function newSender(transport: TransactionTransport, timers: FakeTimers, limits = {}): FederationSender {
    return new FederationSender({
      db: getDb(),
      serverName: 'local.test',
      rooms: rs,
      transport,
      logger: silentLogger,
      clock: timers.clock,
      timers,
      limits,
    });
  }

  test('local events go to every server with joined members, remote events are not echoed', async () => {
    const roomId = await roomWith([remote, other]);
    const transport = new FakeTransport();
    const timers = new FakeTimers();
    const sender = newSender(transport, timers);
    await sender.start();
    const sent = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'hi' } });
    const echo = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: '@u:remote.test', content: { body: 'x' } });
    await rs.receivePdu(echo, 'remote.test', { roomVersion: '10' });
    await sender.idle();
    await sender.stop();
    for (const destination of ['remote.test', 'other.test']) {
      const txns = transport.sent.filter((t) => t.destination === destination);
      assert.equal(txns.length, 1);
      assert.equal(txns[0]?.body.origin, 'local.test');
      assert.equal(txns[0]?.body.pdus.length, 1);
      const event = await rs.event(sent.eventId, 'stored');
      assert.deepEqual(txns[0]?.body.pdus[0], event?.json);
    }
    assert.equal(transport.sent.some((t) => t.destination === 'local.test'), false);
    const outbox = new FederationOutboxRepository(getDb());
    assert.equal(await outbox.queuedCount('remote.test'), 0);
  });

  test('an invite also goes to the invitee\u2019s server (server-server § "Inviting to a room")', async () => {
    const roomId = await roomWith([]);
    const transport = new FakeTransport();
    const timers = new FakeTimers();
    const sender = newSender(transport, timers);
    await sender.start();
    await rs.setMembership({ roomId, sender: ALICE, target: '@invitee:invited.test', membership: 'invite' });
    await sender.idle();
    await sender.stop();
    assert.deepEqual(
      transport.sent.map((t) => t.destination),
      ['invited.test'],
    );
  });

  test('at most 50 PDUs and 100 EDUs a transaction, one transaction in flight per destination', async () => {
    const roomId = await roomWith([remote]);
    const transport = new FakeTransport();
    let open: () => void = () => undefined;
    transport.gate = new Promise((resolve) => {
      open = resolve;
    });
    const timers = new FakeTimers();
    const sender = newSender(transport, timers);
    await sender.start();
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      ids.push((await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: `m${i}` } })).eventId);
    }
    for (let i = 0; i < 130; i++) await sender.enqueueEdu('remote.test', { edu_type: 'm.typing', content: { n: i } });
    open();
    await sender.idle();
    await sender.stop();
    assert.equal(transport.maxInFlight, 1);
    const txns = transport.sent.filter((t) => t.destination === 'remote.test');
    for (const txn of txns) {
      assert.ok(txn.body.pdus.length <= 50, `${txn.body.pdus.length} PDUs`);
      assert.ok(txn.body.edus.length <= 100, `${txn.body.edus.length} EDUs`);
    }
    assert.equal(txns.reduce((n, t) => n + t.body.pdus.length, 0), 120);
    assert.equal(txns.reduce((n, t) => n + t.body.edus.length, 0), 130);
    assert.equal(new Set(txns.map((t) => t.txnId)).size, txns.length, 'transaction IDs are unique');
    // Oldest first: the PDUs arrive in the order they were sent.
    const received = txns.flatMap((t) => t.body.pdus.map((p) => (p['content'] as JsonObject)['body']));
    assert.deepEqual(received, ids.map((_, i) => `m${i}`));
  });

  test('backoff doubles per failure up to its cap, then a success clears it (health view)', async () => {
    const roomId = await roomWith([remote]);
    const transport = new FakeTransport();
    transport.failWith = new FederationConnectionError('remote.test', 'network', 'connection refused');
    const timers = new FakeTimers();
    const sender = newSender(transport, timers, { backoff: { minMs: 1_000, maxMs: 8_000 } });
    await sender.start();
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'down' } });
    await sender.idle();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const pending = timers.pendingDelays();
      assert.equal(pending.length, 1);
      delays.push(pending[0] ?? -1);
      timers.advance(pending[0] ?? 0);
      await sender.idle();
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    const down = (await sender.health()).find((h) => h.destination === 'remote.test');
    assert.equal(down?.failureCount, 7);
    assert.equal(down?.queued, 1);
    assert.equal(down?.backoffUntilTs, timers.now + 8_000);

    transport.failWith = undefined;
    timers.advance(8_000);
    await sender.idle();
    await sender.stop();
    const up = (await sender.health()).find((h) => h.destination === 'remote.test');
    assert.deepEqual(
      { failureCount: up?.failureCount, queued: up?.queued, backoffUntilTs: up?.backoffUntilTs, lastSuccessTs: up?.lastSuccessTs },
      { failureCount: 0, queued: 0, backoffUntilTs: null, lastSuccessTs: timers.now },
    );
    assert.equal(transport.sent.length, 1);
  });

  test('a restart resumes from the rows in the table, after the recorded backoff', async () => {
    const roomId = await roomWith([other]);
    const failing = new FakeTransport();
    failing.failWith = new FederationConnectionError('other.test', 'timeout', 'timed out');
    const timers = new FakeTimers();
    const first = newSender(failing, timers);
    await first.start();
    const sent = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'kept' } });
    await first.idle();
    await first.stop();
    assert.equal(failing.sent.length, 0);

    const working = new FakeTransport();
    const second = newSender(working, timers);
    await second.start();
    await second.idle();
    assert.equal(working.sent.length, 0, 'still backing off from the recorded failure');
    timers.advance(retryIntervalMs(1));
    await second.idle();
    await second.stop();
    assert.equal(working.sent.length, 1);
    const event = await rs.event(sent.eventId, 'stored');
    assert.deepEqual(working.sent[0]?.body.pdus, [event?.json]);
  });

  test('catch-up after an outage sends only the latest event of each room', async () => {
    const roomA = await roomWith([remote]);
    const roomB = await roomWith([remote]);
    const transport = new FakeTransport();
    transport.failWith = new FederationConnectionError('remote.test', 'network', 'unreachable');
    const timers = new FakeTimers();
    const sender = newSender(transport, timers, { catchUpThreshold: 5, catchUpKeepPerRoom: 1 });
    await sender.start();
    const last: Record<string, JsonObject> = {};
    for (let i = 0; i < 8; i++) {
      for (const roomId of [roomA, roomB]) {
        const { eventId } = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: `${i}` } });
        last[roomId] = (await rs.event(eventId, 'stored'))?.json ?? {};
      }
    }
    await sender.enqueueEdu('remote.test', { edu_type: 'm.receipt', content: {} });
    await sender.idle();
    transport.failWith = undefined;
    timers.advance(60 * 60 * 1_000);
    await sender.idle();
    await sender.stop();
    assert.equal(transport.sent.length, 1);
    const pdus = transport.sent[0]?.body.pdus ?? [];
    assert.equal(pdus.length, 2);
    assert.deepEqual(new Set(pdus.map((p) => JSON.stringify(p))), new Set([JSON.stringify(last[roomA]), JSON.stringify(last[roomB])]));
    assert.equal(transport.sent[0]?.body.edus.length, 1, 'EDUs are not dropped by catch-up');
  });

  test('a transaction the destination refuses with 400 is dropped rather than retried forever', async () => {
    const roomId = await roomWith([remote]);
    const transport = new FakeTransport();
    transport.failWith = new RemoteMatrixError('remote.test', 400, 'M_BAD_JSON', undefined, 'bad');
    const timers = new FakeTimers();
    const sender = newSender(transport, timers);
    await sender.start();
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { body: 'x' } });
    await sender.idle();
    await sender.stop();
    assert.deepEqual(timers.pendingDelays(), []);
    assert.equal(await new FederationOutboxRepository(getDb()).queuedCount('remote.test'), 0);
  });
});

test('transaction IDs: the same rows give the same ID, different rows a different one', () => {
  assert.equal(transactionId([3, 1, 2]), transactionId([1, 2, 3]));
  assert.notEqual(transactionId([1, 2, 3]), transactionId([1, 3]));
  assert.notEqual(transactionId([1, 2]), transactionId([2, 3]));
});

test('retry intervals grow exponentially and cap (1 s → 1 h by default)', () => {
  assert.equal(retryIntervalMs(0), 0);
  assert.equal(retryIntervalMs(1), 1_000);
  assert.equal(retryIntervalMs(2), 2_000);
  assert.equal(retryIntervalMs(12), 2_048_000);
  assert.equal(retryIntervalMs(13), 3_600_000);
  assert.equal(retryIntervalMs(10_000), 3_600_000);
});
