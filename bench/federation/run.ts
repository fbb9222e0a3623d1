// Benchmark: federation between two servers on loopback, two Stoa nodes against two Synapse
// peers, the same workloads on each pair, one pair at a time.
//
//   node bench/federation/run.ts [--pairs synapse-sqlite,stoa-pglite,synapse-postgres,stoa-postgres] [--repeats 3]
//        [--delivery 200] [--senders 100] [--concurrent-ms 10000] [--members 10000]
//        [--postgres-url postgres://...] [--out bench/results]
//
// Targets (issue 5): send on A to B's /sync median under 15 ms (Synapse→Synapse about
// 60 ms); joining a room of 10,000 members under 10 s. Issue 12: delivery latency ≤ 1/4 of
// Synapse's. Writes bench/results/<YYYY-MM-DD>-federation.json and prints a Markdown table.

import { performance } from 'node:perf_hooks';
import { testPostgresUrl } from '../../spec-tests/rig/nodes.ts';
import { parseFlags, choiceListFlag, intFlag, progressFor, RESULTS_DIR, stopOnInterrupt, writeResult } from '../lib/common.ts';
import { ensureSynapseInstalled, memoryOf } from '../send-sync/servers.ts';
import { medianOfRuns, round } from '../send-sync/stats.ts';
import { startStoaPair, startSynapsePair, type Pair } from './pairs.ts';
import {
  federationDelivery,
  federationThroughput,
  largeRoomJoin,
  setUpFixture,
  tearDownFixture,
  type DeliveryResult,
  type JoinResult,
  type ThroughputResult,
} from './workloads.ts';

const ALL_PAIRS = ['synapse-sqlite', 'stoa-pglite', 'synapse-postgres', 'stoa-postgres'] as const;
type PairName = (typeof ALL_PAIRS)[number];

const USAGE = `usage: node bench/federation/run.ts [options]
  --pairs a,b          ${ALL_PAIRS.join(', ')} (default: all; PostgreSQL ones need a URL)
  --repeats N          repetitions of delivery and throughput, medians reported (3)
  --delivery N         messages timed one at a time, A to B's /sync (200)
  --senders N          concurrent senders on A for the throughput run (100)
  --concurrent-ms MS   how long the senders send (10000)
  --members N          members of the room B joins, its creator included (10000)
  --postgres-url URL   for the *-postgres pairs (default STOA_TEST_POSTGRES_URL)
  --out DIR            where the JSON goes (bench/results)`;

interface Options {
  pairs: PairName[];
  repeats: number;
  delivery: number;
  senders: number;
  concurrentMs: number;
  members: number;
  postgresUrl: string | undefined;
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const flags = parseFlags(argv, ['--pairs', '--repeats', '--delivery', '--senders', '--concurrent-ms', '--members', '--postgres-url', '--out'], USAGE);
  const int = (flag: string, fallback: number): number => intFlag(flags, flag, fallback);
  const pairs = choiceListFlag(flags, '--pairs', ALL_PAIRS, 'pair');
  const members = int('--members', 10_000);
  if (members < 2) throw new Error('--members needs at least 2');
  return {
    pairs: pairs,
    repeats: int('--repeats', 3),
    delivery: int('--delivery', 200),
    senders: int('--senders', 100),
    concurrentMs: int('--concurrent-ms', 10_000),
    members,
    postgresUrl: flags.get('--postgres-url') ?? testPostgresUrl(),
    out: flags.get('--out') ?? RESULTS_DIR,
  };
}

const progress = progressFor('federation');

export interface PairSummary {
  readonly label: string;
  readonly product: 'stoa' | 'synapse';
  readonly engine: string;
  readonly error?: string;
  readonly delivery?: Record<string, number>;
  readonly throughput?: Record<string, number>;
  readonly join?: JoinResult;
  /** Resident memory of A and B after the workloads, MB. */
  readonly rssAfterMb?: { readonly a: number; readonly b: number };
}

interface PairRuns {
  delivery: DeliveryResult[];
  throughput: ThroughputResult[];
}

function start(name: PairName, options: Options): Promise<Pair> {
  switch (name) {
    case 'stoa-pglite': return startStoaPair('pglite', undefined);
    case 'stoa-postgres': return startStoaPair('postgres', options.postgresUrl);
    case 'synapse-sqlite': return startSynapsePair('sqlite', undefined);
    case 'synapse-postgres': return startSynapsePair('postgres', options.postgresUrl);
  }
}

async function measure(name: PairName, options: Options): Promise<{ summary: PairSummary; runs: PairRuns }> {
  const product = name.startsWith('stoa') ? 'stoa' : 'synapse';
  const engine = name.split('-')[1] ?? '';
  const runs: PairRuns = { delivery: [], throughput: [] };
  let pair: Pair | undefined;
  let forget = (): void => undefined;
  let phase = 'starting';
  try {
    progress(`${name}: starting two servers`);
    const startedAt = performance.now();
    pair = await start(name, options);
    const started = pair;
    forget = stopOnInterrupt(() => started.stop());
    progress(`${name}: ${pair.a.serverName} and ${pair.b.serverName} up in ${round((performance.now() - startedAt) / 1000, 1)} s; setting up rooms`);
    phase = 'setting up';
    const fixture = await setUpFixture(pair);
    try {
      for (let r = 1; r <= options.repeats; r++) {
        phase = `delivery run ${r}`;
        const delivery = await federationDelivery(fixture, options.delivery, r === 1 ? 20 : 0);
        runs.delivery.push(delivery);
        progress(`${name} run ${r}: A→B delivery p50 ${delivery.p50Ms} ms p99 ${delivery.p99Ms} ms (${delivery.delivered}/${delivery.count})`);
        phase = `throughput run ${r}`;
        const throughput = await federationThroughput(fixture, options.senders, options.concurrentMs);
        runs.throughput.push(throughput);
        progress(`${name} run ${r}: ${throughput.workers} senders: ${throughput.sentPerSecond}/s sent on A, ${throughput.deliveredPerSecond}/s arrived at B (${throughput.delivered}/${throughput.sent}, p50 ${throughput.latencyP50Ms} ms)`);
      }
    } finally {
      await tearDownFixture(fixture);
    }
    phase = 'large-room join';
    const join = await largeRoomJoin(pair, options.members, progress);
    progress(`${name}: B joined a room of ${join.members} members: the join returned after ${join.joinReturnedMs} ms (${join.membersSeenAtReturn} members seen), every member seen after ${join.joinMs} ms${join.complete ? '' : ' (INCOMPLETE)'}`);
    const rssAfterMb = { a: round((await memoryOf(pair.a.pid)).rssMb, 1), b: round((await memoryOf(pair.b.pid)).rssMb, 1) };
    return { summary: { label: name, product, engine, delivery: medianOfRuns(runs.delivery), throughput: medianOfRuns(runs.throughput), join, rssAfterMb }, runs };
  } catch (error) {
    const message = `${phase}: ${error instanceof Error ? error.message : String(error)}`;
    progress(`${name}: FAILED: ${message}`);
    const partial: PairSummary = {
      label: name,
      product,
      engine,
      error: message,
      ...(runs.delivery.length === 0 ? {} : { delivery: medianOfRuns(runs.delivery) }),
      ...(runs.throughput.length === 0 ? {} : { throughput: medianOfRuns(runs.throughput) }),
    };
    return { summary: partial, runs };
  } finally {
    await pair?.stop().catch((error: unknown) => progress(`${name}: stop failed: ${String(error)}`));
    forget();
  }
}

interface Metric {
  readonly name: string;
  readonly better: 'lower' | 'higher';
  value(s: PairSummary): number | undefined;
}

const METRICS: readonly Metric[] = [
  { name: 'A→B delivery p50 (ms)', better: 'lower', value: (s) => s.delivery?.['p50Ms'] },
  { name: 'A→B delivery p99 (ms)', better: 'lower', value: (s) => s.delivery?.['p99Ms'] },
  { name: 'A→B after the send returned p50 (ms)', better: 'lower', value: (s) => s.delivery?.['afterSendP50Ms'] },
  { name: 'concurrent senders: sent on A (/s)', better: 'higher', value: (s) => s.throughput?.['sentPerSecond'] },
  { name: 'concurrent senders: arrived at B (/s)', better: 'higher', value: (s) => s.throughput?.['deliveredPerSecond'] },
  { name: 'concurrent senders: A→B p50 (ms)', better: 'lower', value: (s) => s.throughput?.['latencyP50Ms'] },
  { name: 'concurrent senders: delivered / sent', better: 'higher', value: (s) => (s.throughput === undefined ? undefined : (s.throughput['delivered'] ?? 0) / Math.max(1, s.throughput['sent'] ?? 0)) },
  { name: 'join a large room: until B has every member (ms)', better: 'lower', value: (s) => s.join?.joinMs },
  { name: 'join a large room: until the join returned (ms)', better: 'lower', value: (s) => s.join?.joinReturnedMs },
  { name: 'RSS of A after (MB)', better: 'lower', value: (s) => s.rssAfterMb?.a },
  { name: 'RSS of B after (MB)', better: 'lower', value: (s) => s.rssAfterMb?.b },
];

function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function peerOf(stoa: PairSummary, pairs: readonly PairSummary[]): PairSummary | undefined {
  const synapses = pairs.filter((s) => s.product === 'synapse' && s.error === undefined);
  return synapses.find((s) => s.engine === (stoa.engine === 'postgres' ? 'postgres' : 'sqlite')) ?? synapses[0];
}

interface TargetCheck {
  readonly pair: string;
  readonly target: string;
  readonly value: number | undefined;
  readonly pass: boolean;
}

function checkTargets(pairs: readonly PairSummary[], members: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const s of pairs.filter((p) => p.product === 'stoa')) {
    const add = (target: string, value: number | undefined, pass: (v: number) => boolean): void => {
      checks.push({ pair: s.label, target, value, pass: value !== undefined && Number.isFinite(value) && pass(value) });
    };
    const complete = s.delivery !== undefined && s.delivery['delivered'] === s.delivery['count'];
    add('A→B delivery median < 15 ms (all delivered)', s.delivery?.['p50Ms'], (v) => v < 15 && complete);
    const peer = peerOf(s, pairs);
    const peerP50 = peer?.delivery?.['p50Ms'];
    if (peerP50 !== undefined) add(`A→B delivery median ≤ 1/4 of ${peer?.label ?? 'Synapse'}'s (Stoa/Synapse)`, s.delivery?.['p50Ms'] === undefined ? undefined : s.delivery['p50Ms'] / peerP50, (v) => v <= 0.25);
    add(`join a room of ${members} members < 10 s (${members === 10_000 ? 'full size' : 'scaled down; the target is for 10,000'}; all members seen)`, s.join?.joinMs, (v) => v < 10_000 && s.join?.complete === true);
  }
  return checks;
}

export function markdownReport(pairs: readonly PairSummary[], checks: readonly TargetCheck[], options: Options): string {
  const columns = pairs.filter((s) => s.error === undefined || s.delivery !== undefined);
  const ratios = columns.filter((s) => s.product === 'stoa').flatMap((s) => {
    const peer = peerOf(s, pairs);
    return peer === undefined ? [] : [{ stoa: s, peer, title: `${s.label} / ${peer.label}` }];
  });
  const header = ['metric', ...columns.map((c) => c.label), ...ratios.map((r) => r.title)];
  const lines = [`| ${header.join(' | ')} |`, `|---|${header.slice(1).map(() => '---:').join('|')}|`];
  for (const metric of METRICS) {
    const values = columns.map((c) => fmt(metric.value(c)));
    const factors = ratios.map(({ stoa, peer }) => {
      const a = metric.value(stoa);
      const b = metric.value(peer);
      if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) return '—';
      const factor = metric.better === 'lower' ? b / a : a / b;
      return `${factor.toFixed(factor >= 10 ? 0 : 1)}×`;
    });
    lines.push(`| ${[metric.name, ...values, ...factors].join(' | ')} |`);
  }
  lines.push('', `Ratios: how many times better Stoa is (> 1 favours Stoa). ${options.delivery} messages one at a time per delivery run, ${options.senders} senders for ${options.concurrentMs} ms per throughput run, medians of ${options.repeats} runs; large room: ${options.members} members, joined once.`);
  for (const failed of pairs.filter((s) => s.error !== undefined)) lines.push(`\n**${failed.label} did not complete:** ${failed.error}`);
  if (checks.length > 0) {
    lines.push('', '| target | pair | value | result |', '|---|---|---:|---|');
    for (const c of checks) lines.push(`| ${c.target} | ${c.pair} | ${fmt(c.value)} | ${c.pass ? 'pass' : '**FAIL**'} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.postgresUrl === undefined) {
    const skipped = options.pairs.filter((s) => s.endsWith('postgres'));
    if (skipped.length > 0) progress(`no --postgres-url or STOA_TEST_POSTGRES_URL: skipping ${skipped.join(', ')}`);
    options.pairs = options.pairs.filter((s) => !s.endsWith('postgres'));
  }
  const notes: string[] = [];
  if (options.pairs.some((s) => s.startsWith('synapse'))) {
    progress('checking the Synapse peer is installed');
    try {
      await ensureSynapseInstalled();
    } catch (error) {
      const note = `the Synapse peer could not be installed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): Stoa alone, no ratios`;
      progress(note);
      notes.push(note);
      options.pairs = options.pairs.filter((s) => !s.startsWith('synapse'));
    }
  }
  const summaries: PairSummary[] = [];
  const allRuns: Record<string, PairRuns> = {};
  for (const name of options.pairs) {
    const { summary, runs } = await measure(name, options);
    summaries.push(summary);
    allRuns[name] = runs;
  }
  const checks = checkTargets(summaries, options.members);
  const file = await writeResult(options.out, 'federation', {
    options: { ...options, postgresUrl: options.postgresUrl === undefined ? undefined : '(set)' },
    notes,
    servers: summaries,
    targets: checks,
    runs: allRuns,
  });
  process.stdout.write(`${markdownReport(summaries, checks, options)}\n${notes.map((n) => `\nNote: ${n}`).join('')}\n\nFull results: ${file}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
// The rig's exit hook kills any node still running; pools are closed already.
process.exit(0);
