// bench/summary.ts on hand-made result files: ratios, targets, engine pairing, stand-ins,
// failures and missing benchmarks. Not part of `npm test` (nothing in bench/ is); run with
// `node --test bench/summary.test.ts`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SUMMARY = join(import.meta.dirname, 'summary.ts');
const DATE = '2030-01-02';

interface Row {
  workload: string;
  stoa: string;
  synapse?: string;
  stoaValue?: number;
  synapseValue?: number;
  ratio?: number;
  target?: string;
  pass?: boolean;
  absolutePass?: boolean;
  note?: string;
}

let dir = '';
let rows: Row[] = [];
let markdown = '';

function server(label: string, fields: Record<string, unknown>): Record<string, unknown> {
  const [product, engine] = label.split('-');
  return { label, product, engine, ...fields };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stoa-bench-summary-'));
  const write = (name: string, body: Record<string, unknown>): Promise<void> =>
    writeFile(join(dir, `${DATE}-${name}.json`), JSON.stringify({ benchmark: name, date: `${DATE}T10:00:00.000Z`, machine: { loadavg: [1, 1, 1] }, ...body }));
  await write('send-sync', {
    options: { rate: 200 },
    servers: [
      server('synapse-sqlite', { idleRssMb: 140, afterLoadRssMb: 160, sequential: { medianMs: 50 }, concurrent10: { perSecond: 20 }, concurrent100: { perSecond: 25 }, delivery: { p50Ms: 60, p99Ms: 100 } }),
      server('stoa-pglite', { idleRssMb: 60, afterLoadRssMb: 90, sequential: { medianMs: 4 }, concurrent10: { perSecond: 500 }, concurrent100: { perSecond: 400 }, delivery: { p50Ms: 10, p99Ms: 30 } }),
      // No synapse-postgres: synapse-sqlite stands in.
      server('stoa-postgres', { error: 'POST /createRoom -> 500' }),
    ],
  });
  await write('federation', {
    options: { members: 300, senders: 100 },
    servers: [
      server('synapse-sqlite', { delivery: { p50Ms: 60, p99Ms: 90 }, throughput: { deliveredPerSecond: 10 }, join: { joinMs: 2000, complete: true } }),
      server('stoa-pglite', { delivery: { p50Ms: 12, p99Ms: 40 }, throughput: { deliveredPerSecond: 50 }, join: { joinMs: 900, complete: true } }),
    ],
  });
  await write('db-size', {
    options: { members: 1000, events: 100000 },
    servers: [server('synapse-postgres', { afterMb: 1000 }), server('stoa-postgres', { afterMb: 150 })],
  });
  const { stdout } = await run(process.execPath, [SUMMARY, '--date', DATE, '--results', dir]);
  markdown = await readFile(join(dir, `${DATE}.md`), 'utf8');
  assert.ok(stdout.includes(markdown.trim().split('\n')[0] ?? '#'), 'prints the Markdown it writes');
  rows = (JSON.parse(await readFile(join(dir, `${DATE}.json`), 'utf8')) as { rows: Row[] }).rows;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function row(stoa: string, workload: string): Row {
  const found = rows.find((r) => r.stoa === stoa && r.workload.startsWith(workload));
  assert.ok(found, `a row for ${stoa}: ${workload}`);
  return found;
}

test('ratios are Stoa / Synapse, judged against issue 12 targets', () => {
  const send = row('stoa-pglite', 'sequential send latency');
  assert.equal(send.ratio, 4 / 50);
  assert.equal(send.target, '≤ 1/10');
  assert.equal(send.pass, true);
  const throughput = row('stoa-pglite', 'throughput, 100 concurrent');
  assert.equal(throughput.ratio, 16);
  assert.equal(throughput.pass, false, '16× is short of 20×');
  assert.equal(row('stoa-pglite', 'idle resident memory').pass, true);
  assert.equal(row('stoa-pglite', 'resident memory after the load').pass, false, '90 / 160 is over 1/2');
});

test('federation rows carry issue 5 absolute targets and the size used', () => {
  const delivery = row('stoa-pglite', 'federation A→B delivery p50');
  assert.equal(delivery.ratio, 0.2);
  assert.equal(delivery.pass, true);
  assert.equal(delivery.absolutePass, true, '12 ms < 15 ms');
  const join = row('stoa-pglite', 'join over federation, room of 300 members');
  assert.equal(join.absolutePass, true);
  assert.ok(markdown.includes('(set for 10,000)'), 'a scaled-down join says so');
});

test('PostgreSQL pairs with PostgreSQL; db-size only there; a missing Synapse is named', () => {
  const size = row('stoa-postgres', 'database size');
  assert.equal(size.ratio, 0.15);
  assert.equal(size.pass, true);
  assert.equal(rows.some((r) => r.stoa === 'stoa-pglite' && r.workload.startsWith('database size')), false);
  const failed = row('stoa-postgres', 'sequential send latency');
  assert.equal(failed.stoaValue, undefined);
  assert.match(failed.note ?? '', /Stoa failed: POST \/createRoom -> 500/);
  assert.match(failed.note ?? '', /synapse-sqlite stands in for synapse-postgres/);
});

test('a benchmark that did not run is listed as such', () => {
  assert.ok(markdown.includes(`initial-sync: not run on ${DATE}`));
  assert.equal(rows.some((r) => r.workload.startsWith('initial /sync')), false);
});
