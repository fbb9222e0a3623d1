// Benchmark: sending and syncing, Stoa (PGlite and PostgreSQL) against the Synapse peer
// (SQLite and PostgreSQL), in one run on the same machine.
//
//   node bench/send-sync/run.ts [--servers stoa-pglite,stoa-postgres,synapse-sqlite,synapse-postgres]
//        [--repeats 3] [--sequential 300] [--concurrent-ms 10000] [--rate 200]
//        [--delivery-ms 10000] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
//        [--out bench/results]
//
// Targets (issue 4): median send under 3 ms; >= 1,500 events/s with 100 concurrent senders
// on PostgreSQL; delivery p99 under 25 ms at 200 events/s; idle memory under 80 MB RSS.
//
// Servers run one after another, never together (they would compete for the same cores).
// Each measurement is repeated and the medians reported; the individual runs are in the
// JSON written to bench/results/<YYYY-MM-DD>-send-sync.json. A server that fails (an
// endpoint missing, a crash) is reported with the failing request and the others still run.

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, testPostgresUrl } from '../../spec-tests/rig/nodes.ts';
import { checkTargets, markdownReport, type ServerSummary } from './report.ts';
import { ensureSynapseInstalled, memoryOf, startStoa, startSynapse, type BenchServer } from './servers.ts';
import { medianOfRuns, round } from './stats.ts';
import {
  concurrentSends,
  deliveryLatency,
  sequentialSends,
  setUpFixture,
  tearDownFixture,
  warmUp,
  type ConcurrentResult,
  type DeliveryResult,
  type SequentialResult,
} from './workloads.ts';

const ALL_SERVERS = ['synapse-sqlite', 'stoa-pglite', 'synapse-postgres', 'stoa-postgres'] as const;
type ServerName = (typeof ALL_SERVERS)[number];

interface Options {
  servers: ServerName[];
  repeats: number;
  sequential: number;
  concurrentMs: number;
  rate: number;
  deliveryMs: number;
  postgresUrl: string | undefined;
  out: string;
  /** Time between "listening" and reading the idle RSS. */
  settleMs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    servers: [...ALL_SERVERS],
    repeats: 3,
    sequential: 300,
    concurrentMs: 10_000,
    rate: 200,
    deliveryMs: 10_000,
    postgresUrl: testPostgresUrl(),
    out: join(REPO_ROOT, 'bench', 'results'),
    settleMs: 5_000,
  };
  const int = (flag: string, value: string): number => {
    const n = Number.parseInt(value, 10);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    switch (flag) {
      case '--servers': {
        const names = value.split(',');
        for (const name of names) if (!(ALL_SERVERS as readonly string[]).includes(name)) throw new Error(`unknown server ${name}; one of ${ALL_SERVERS.join(', ')}`);
        options.servers = names as ServerName[];
        break;
      }
      case '--repeats': options.repeats = int(flag, value); break;
      case '--sequential': options.sequential = int(flag, value); break;
      case '--concurrent-ms': options.concurrentMs = int(flag, value); break;
      case '--rate': options.rate = int(flag, value); break;
      case '--delivery-ms': options.deliveryMs = int(flag, value); break;
      case '--postgres-url': options.postgresUrl = value; break;
      case '--out': options.out = value; break;
      case '--settle-ms': options.settleMs = int(flag, value); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  return options;
}

async function start(name: ServerName, options: Options): Promise<BenchServer> {
  switch (name) {
    case 'stoa-pglite': return startStoa('pglite', undefined);
    case 'stoa-postgres': return startStoa('postgres', options.postgresUrl);
    case 'synapse-sqlite': return startSynapse('sqlite', undefined);
    case 'synapse-postgres': return startSynapse('postgres', options.postgresUrl);
  }
}

interface ServerRuns {
  sequential: SequentialResult[];
  concurrent10: ConcurrentResult[];
  concurrent100: ConcurrentResult[];
  delivery: DeliveryResult[];
}

function progress(message: string): void {
  process.stderr.write(`[send-sync] ${message}\n`);
}

async function measure(name: ServerName, options: Options): Promise<{ summary: ServerSummary; runs: ServerRuns }> {
  const product = name.startsWith('stoa') ? 'stoa' : 'synapse';
  const engine = name.split('-')[1] ?? '';
  const runs: ServerRuns = { sequential: [], concurrent10: [], concurrent100: [], delivery: [] };
  let server: BenchServer | undefined;
  let idleRssMb: number | undefined;
  try {
    progress(`${name}: starting`);
    server = await start(name, options);
    await sleep(options.settleMs);
    idleRssMb = round((await memoryOf(server.pid)).rssMb, 1);
    progress(`${name}: idle RSS ${idleRssMb} MB; setting up users and rooms`);
    const fixture = await setUpFixture(server.clientUrl, server.registrationSharedSecret);
    try {
      await warmUp(fixture);
      for (let r = 1; r <= options.repeats; r++) {
        const seq = await sequentialSends(fixture, options.sequential);
        runs.sequential.push(seq);
        progress(`${name} run ${r}: sequential median ${seq.medianMs} ms, ${seq.perSecond}/s`);
        const c10 = await concurrentSends(fixture, 10, options.concurrentMs);
        runs.concurrent10.push(c10);
        progress(`${name} run ${r}: 10 senders ${c10.perSecond}/s (median ${c10.medianMs} ms)`);
        const c100 = await concurrentSends(fixture, 100, options.concurrentMs);
        runs.concurrent100.push(c100);
        progress(`${name} run ${r}: 100 senders ${c100.perSecond}/s (median ${c100.medianMs} ms)`);
        const delivery = await deliveryLatency(fixture, options.rate, options.deliveryMs);
        runs.delivery.push(delivery);
        progress(`${name} run ${r}: delivery p50 ${delivery.p50Ms} ms p99 ${delivery.p99Ms} ms (${delivery.delivered}/${delivery.sent}, sent at ${delivery.achievedRate}/s)`);
      }
    } finally {
      await tearDownFixture(fixture);
    }
    const afterLoadRssMb = round((await memoryOf(server.pid)).rssMb, 1);
    return {
      summary: {
        label: name,
        product,
        engine,
        idleRssMb,
        afterLoadRssMb,
        sequential: medianOfRuns(runs.sequential),
        concurrent10: medianOfRuns(runs.concurrent10),
        concurrent100: medianOfRuns(runs.concurrent100),
        delivery: medianOfRuns(runs.delivery),
      },
      runs,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`${name}: FAILED: ${message}`);
    return { summary: { label: name, product, engine, error: message, ...(idleRssMb === undefined ? {} : { idleRssMb }) }, runs };
  } finally {
    await server?.stop().catch((error: unknown) => progress(`${name}: stop failed: ${String(error)}`));
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.postgresUrl === undefined) {
    const skipped = options.servers.filter((s) => s.endsWith('postgres'));
    if (skipped.length > 0) progress(`no --postgres-url or STOA_TEST_POSTGRES_URL: skipping ${skipped.join(', ')}`);
    options.servers = options.servers.filter((s) => !s.endsWith('postgres'));
  }
  if (options.servers.some((s) => s.startsWith('synapse'))) {
    progress('checking the Synapse peer is installed');
    await ensureSynapseInstalled();
  }
  const summaries: ServerSummary[] = [];
  const allRuns: Record<string, ServerRuns> = {};
  for (const name of options.servers) {
    const { summary, runs } = await measure(name, options);
    summaries.push(summary);
    allRuns[name] = runs;
  }
  const checks = checkTargets(summaries, options.rate);
  const now = new Date();
  const result = {
    benchmark: 'send-sync',
    date: now.toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryMb: Math.round(totalmem() / 2 ** 20), loadavg: loadavg(), node: process.version },
    options: { ...options, postgresUrl: options.postgresUrl === undefined ? undefined : '(set)' },
    servers: summaries,
    targets: checks,
    runs: allRuns,
  };
  await mkdir(options.out, { recursive: true });
  const file = join(options.out, `${now.toISOString().slice(0, 10)}-send-sync.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${markdownReport(summaries, checks)}\n\nFull results: ${file}\n`);
}

await main();
// The rig's exit hook kills any node still running; undici pools are closed already.
process.exit(0);
