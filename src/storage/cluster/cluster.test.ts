// DESIGN.md "Scale": processes sharing a database tell each other their promises and what
// they committed, over one ordered channel (LISTEN/NOTIFY; here an in-memory stand-in).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster } from './cluster.ts';
import { MemoryHub } from './testing.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const started: Cluster[] = [];
after(async () => {
  for (const c of started) await c.close();
});

async function join(hub: MemoryHub, role = 'all'): Promise<Cluster> {
  const cluster = new Cluster({ bus: hub.bus(), logger: quiet, role, heartbeatMs: 20 });
  cluster.stream('e', 10);
  await cluster.start();
  started.push(cluster);
  return cluster;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never: ${what}`);
}

test('processes learn of each other at start', async () => {
  const hub = new MemoryHub();
  const a = await join(hub, 'client');
  const b = await join(hub, 'federation-sender');
  assert.equal(b.peers.get(a.writerId), 'client');
  await eventually(() => a.peers.get(b.writerId) === 'federation-sender', 'a knows b');
});

test("a reader on one process waits for a write still in flight on another, then sees both", async () => {
  const hub = new MemoryHub();
  const a = await join(hub);
  const b = await join(hub);
  const c = await join(hub);
  const ea = a.stream('e', 10);
  const eb = b.stream('e', 10);
  const ec = c.stream('e', 10);
  // b allocates 11 and holds it; a commits 12.
  await eb.allocating(async () => 11);
  await ea.allocating(async () => 12);
  ea.committed(12);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(ec.safePosition(), 10, 'c must not read past 11 while b holds it');
  eb.committed(11);
  await eventually(() => ec.safePosition() === 12, 'c reads up to 12');
  await eventually(() => ea.safePosition() === 12 && eb.safePosition() === 12, 'every process reads up to 12');
});

test('attachments reach the others before the promises sent with them', async () => {
  const hub = new MemoryHub();
  const a = await join(hub);
  const b = await join(hub);
  const eb = b.stream('e', 10);
  const seenAt: Array<[string, number]> = [];
  b.onAttachment('events', (item) => seenAt.push([String(item), eb.safePosition()]));
  const ea = a.stream('e', 10);
  await ea.allocating(async () => 11);
  ea.committed(11);
  a.attach('events', '$event11');
  await eventually(() => eb.safePosition() === 11, 'b reads 11');
  assert.deepEqual(seenAt, [['$event11', 10]]);
});

test('many attachments are split into messages that fit a NOTIFY payload', async () => {
  const hub = new MemoryHub();
  const a = await join(hub);
  const b = await join(hub);
  const got: unknown[] = [];
  b.onAttachment('events', (item) => got.push(item));
  for (let i = 0; i < 100; i++) a.attach('events', { i, pad: 'x'.repeat(200) });
  await eventually(() => got.length === 100, 'all 100 arrive');
  assert.deepEqual(got.map((g) => (g as { i: number }).i), [...Array(100).keys()]);
});

test('a process that leaves or goes silent stops holding reads back', async () => {
  const hub = new MemoryHub();
  const a = await join(hub);
  const b = await join(hub);
  const ea = a.stream('e', 10);
  await b.stream('e', 10).allocating(async () => 11);
  await ea.allocating(async () => 12);
  ea.committed(12);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(ea.safePosition(), 10);
  await b.close();
  await eventually(() => ea.safePosition() === 12, 'a reads on after b left');

  const c = await join(hub);
  await c.stream('e', 12).allocating(async () => 13);
  await ea.allocating(async () => 14);
  ea.committed(14);
  hub.pause(); // c is cut off: a hears nothing more from it.
  await eventually(() => ea.safePosition() === 14, 'a forgets the silent c');
  hub.resume();
});

test('positions may be read once the cluster is joined; alone, at once', async () => {
  const alone = new Cluster({ logger: quiet });
  await alone.started;
  const hub = new MemoryHub();
  const cluster = new Cluster({ bus: hub.bus(), logger: quiet, heartbeatMs: 20 });
  let started = false;
  void cluster.started.then(() => (started = true));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(started, false, 'not before it knows the others');
  await cluster.start();
  await cluster.started;
  assert.equal(started, true);
  await cluster.close();
});
