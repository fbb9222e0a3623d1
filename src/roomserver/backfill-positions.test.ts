// How far down backfilled history may be read (./backfill-positions.ts): never past a
// position that a placement still in progress may write, in this process or another one
// sharing the database (DESIGN.md "Scale"; here over an in-memory bus).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster } from '../storage/cluster/cluster.ts';
import { MemoryHub } from '../storage/cluster/testing.ts';
import { BackfillPositions, type BackfillPositionStore } from './backfill-positions.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** events_backfill_seq, negated as the events repository hands it out. */
class Sequence implements BackfillPositionStore {
  last: number;

  constructor(last = 0) {
    this.last = last;
  }

  async reserveBackfillPositions(count: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(-++this.last);
    return out.sort((a, b) => a - b);
  }

  async lowestBackfillPosition(): Promise<number> {
    return -this.last;
  }
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('the floor starts where backfill stands, and stays above a placement until it ends', async () => {
  const positions = new BackfillPositions(new Cluster({ logger: quiet }), new Sequence(5));
  assert.equal(await positions.floor(), -5);
  let advanced = 0;
  positions.onAdvance(() => advanced++);
  const placed = await positions.placing(async () => {
    assert.deepEqual(await positions.reserve(3), [-8, -7, -6]);
    assert.equal(await positions.floor(), -5, 'not past positions still to be written');
    return 'done';
  });
  assert.equal(placed, 'done');
  assert.equal(await positions.floor(), -8);
  // Woken when the placement ended (and possibly once for the start, where nobody waits).
  assert.ok(advanced >= 1 && advanced <= 2, `woken ${advanced} times`);
});

test('placements at once: the floor waits for the one that began first, even when a later one ends before it', async () => {
  const positions = new BackfillPositions(new Cluster({ logger: quiet }), new Sequence());
  await positions.ready();
  const aReserved = gate();
  const aMayEnd = gate();
  const a = positions.placing(async () => {
    await positions.reserve(2); // -2, -1
    aReserved.open();
    await aMayEnd.opened;
  });
  await aReserved.opened;
  // b begins after a reserved, writes below it and ends first.
  await positions.placing(async () => {
    assert.deepEqual(await positions.reserve(2), [-4, -3]);
  });
  assert.equal(await positions.floor(), 0, 'a may still write -2 and -1');
  aMayEnd.open();
  await a;
  assert.equal(await positions.floor(), -4);
});

test('a placement that fails still settles what it reserved', async () => {
  const positions = new BackfillPositions(new Cluster({ logger: quiet }), new Sequence(1));
  await assert.rejects(
    positions.placing(async () => {
      await positions.reserve(2);
      throw new Error('the state before it could not be fetched');
    }),
    /could not be fetched/,
  );
  assert.equal(await positions.floor(), -3);
  // A placement that reserves nothing moves nothing.
  await positions.placing(async () => undefined);
  assert.equal(await positions.floor(), -3);
});

const clusters: Cluster[] = [];
after(async () => {
  for (const cluster of clusters) await cluster.close();
});

async function startProcess(hub: MemoryHub, sequence: Sequence): Promise<BackfillPositions> {
  const cluster = new Cluster({ bus: hub.bus(), logger: quiet, heartbeatMs: 20 });
  clusters.push(cluster);
  const positions = new BackfillPositions(cluster, sequence);
  await positions.ready();
  await cluster.start();
  return positions;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never: ${what}`);
}

test('several processes: a reader does not pass a placement in progress on another process', async () => {
  const hub = new MemoryHub();
  const sequence = new Sequence(10);
  const a = await startProcess(hub, sequence);
  const b = await startProcess(hub, sequence);
  const aReserved = gate();
  const aMayEnd = gate();
  const placing = a.placing(async () => {
    await a.reserve(2); // -12, -11
    aReserved.open();
    await aMayEnd.opened;
  });
  await aReserved.opened;
  await b.placing(async () => {
    await b.reserve(1); // -13
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await b.floor(), -10, 'b must not read past -11 while a may write it');
  aMayEnd.open();
  await placing;
  await eventually(async () => (await b.floor()) === -13 && (await a.floor()) === -13, 'both read down to -13');
});
