// Benchmark: throughput of one and of two Stoa client processes on one PostgreSQL behind
// nginx (issue 12 item 2): 100 concurrent senders over 10 rooms, the same workload as
// bench/send-sync, through the load balancer in both cases so only the process count differs.
//
//   node bench/scale-out/run.ts [--repeats 3] [--concurrent-ms 10000] [--workers 100]
//        [--postgres-url postgres://postgres@127.0.0.1:5432/postgres] [--out bench/results]
//
// On a 2-core machine two processes share the same two cores (and PostgreSQL's), so the
// figure to read is the ratio, and what it costs: the processes' announcements over
// LISTEN/NOTIFY. Writes JSON to bench/results/<YYYY-MM-DD>-scale-out.json.

import { join } from 'node:path';
import { nginxBinary, startLoadBalancer } from '../../spec-tests/rig/nginx.ts';
import { REPO_ROOT, startNodes, startSibling, testPostgresUrl, type SiblingProcess } from '../../spec-tests/rig/nodes.ts';
import { intFlag, parseFlags, writeResult } from '../lib/common.ts';
import { concurrentSends, setUpFixture, tearDownFixture, warmUp, type ConcurrentResult } from '../send-sync/workloads.ts';

const USAGE = 'usage: node bench/scale-out/run.ts [--repeats 3] [--concurrent-ms 10000] [--workers 100] [--postgres-url URL] [--out DIR]';
const flags = parseFlags(process.argv.slice(2), ['--repeats', '--concurrent-ms', '--workers', '--postgres-url', '--out'], USAGE);
const repeats = intFlag(flags, '--repeats', 3);
const concurrentMs = intFlag(flags, '--concurrent-ms', 10_000);
const workers = intFlag(flags, '--workers', 100);
const out = flags.get('--out') ?? join(REPO_ROOT, 'bench', 'results');
const postgresUrl = flags.get('--postgres-url') ?? testPostgresUrl() ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env['STOA_TEST_POSTGRES_URL'] = postgresUrl;

if (nginxBinary() === undefined) {
  process.stderr.write('bench/scale-out needs nginx (apt-get install nginx-light)\n');
  process.exit(1);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function measure(processes: 1 | 2): Promise<{ processes: number; runs: ConcurrentResult[]; medianPerSecond: number }> {
  const [node] = await startNodes(1, { engine: 'postgres', configOverrides: { rate_limits: { enabled: false } } });
  if (node === undefined) throw new Error('no node');
  let sibling: SiblingProcess | undefined;
  try {
    if (processes === 2) sibling = await startSibling(node, { cluster: { role: 'client' } });
    const lb = await startLoadBalancer(sibling === undefined ? [node.clientUrl] : [node.clientUrl, sibling.clientUrl]);
    try {
      const fixture = await setUpFixture(lb.url, node.registrationSharedSecret);
      await warmUp(fixture);
      const runs: ConcurrentResult[] = [];
      for (let r = 0; r < repeats; r++) {
        const run = await concurrentSends(fixture, workers, concurrentMs);
        process.stderr.write(`  ${processes} process(es), run ${r + 1}: ${run.perSecond} events/s (median ${run.medianMs} ms)\n`);
        runs.push(run);
      }
      await tearDownFixture(fixture);
      return { processes, runs, medianPerSecond: median(runs.map((r) => r.perSecond)) };
    } finally {
      await lb.stop();
    }
  } finally {
    await sibling?.stop();
    await node.stop();
  }
}

const one = await measure(1);
const two = await measure(2);
const ratio = one.medianPerSecond === 0 ? null : Math.round((two.medianPerSecond / one.medianPerSecond) * 100) / 100;
const file = await writeResult(out, 'scale-out', { workers, concurrentMs, repeats, oneProcess: one, twoProcesses: two, ratio });
process.stdout.write(
  `| processes | events/s (median of ${repeats}) |\n|---|---|\n| 1 | ${one.medianPerSecond} |\n| 2 | ${two.medianPerSecond} |\n\nratio 2/1: ${ratio}; written to ${file}\n`,
);
