// The combined summary of issue 12: reads the results one date's benchmarks wrote
// (bench/results/<date>-send-sync.json, -federation.json, -initial-sync.json, -db-size.json)
// and writes bench/results/<date>.json and bench/results/<date>.md with every workload as a
// Stoa/Synapse ratio against the targets. Run by `npm run bench` after a full run,
// or alone:
//
//   node bench/summary.ts [--date YYYY-MM-DD] [--results bench/results]
//
// Stoa on PGlite is compared with Synapse on SQLite (each one's embedded default), Stoa on
// PostgreSQL with Synapse on PostgreSQL; when the matching Synapse did not run, the other
// one stands in and the table says so.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dateStamp, parseFlags, RESULTS_DIR } from './lib/common.ts';

const USAGE = `usage: node bench/summary.ts [--date YYYY-MM-DD] [--results DIR]
Reads DIR/<date>-{send-sync,federation,initial-sync,db-size}.json (default: today, UTC)
and writes DIR/<date>.json and DIR/<date>.md.`;

const SOURCES = ['send-sync', 'federation', 'initial-sync', 'db-size'] as const;
type Source = (typeof SOURCES)[number];

type Json = Record<string, unknown>;

interface Result {
  readonly file: string;
  readonly date: string | undefined;
  readonly loadavg: unknown;
  readonly options: Json;
  readonly servers: readonly Json[];
  readonly notes: readonly string[];
}

/** How a Stoa/Synapse ratio is judged: `max` ratios must stay at or under, `min` at or over. */
interface Target {
  readonly text: string;
  pass(ratio: number): boolean;
}

const atMost = (limit: number, text: string): Target => ({ text, pass: (ratio) => ratio <= limit });
const atLeast = (limit: number, text: string): Target => ({ text, pass: (ratio) => ratio >= limit });

interface Row {
  readonly source: Source;
  readonly workload: string;
  readonly unit: string;
  readonly target?: Target;
  /** An absolute target on Stoa's own figure, from the issue that introduced the workload. */
  readonly absolute?: { readonly text: string; pass(stoa: number, server: Json): boolean };
  value(server: Json): number | undefined;
  /** Only for these Stoa engines (db-size runs on PostgreSQL only). */
  readonly engines?: readonly string[];
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function field(server: Json, ...path: string[]): number | undefined {
  let at: unknown = server;
  for (const key of path) at = typeof at === 'object' && at !== null ? (at as Json)[key] : undefined;
  return num(at);
}

const SEND_LATENCY = atMost(0.1, '≤ 1/10');
const THROUGHPUT = atLeast(20, '≥ 20×');
const DELIVERY = atMost(0.25, '≤ 1/4');
const MEMORY = atMost(0.5, '≤ 1/2');
const DB_SIZE = atMost(0.2, '≤ 1/5');

function rows(results: Partial<Record<Source, Result>>): Row[] {
  const opt = (source: Source, key: string): string => {
    const value = results[source]?.options[key];
    return typeof value === 'number' ? value.toLocaleString('en') : '?';
  };
  return [
    { source: 'send-sync', workload: 'sequential send latency, median', unit: 'ms', target: SEND_LATENCY, value: (s) => field(s, 'sequential', 'medianMs') },
    { source: 'send-sync', workload: 'throughput, 10 concurrent senders over 10 rooms', unit: 'events/s', target: THROUGHPUT, value: (s) => field(s, 'concurrent10', 'perSecond') },
    { source: 'send-sync', workload: 'throughput, 100 concurrent senders over 10 rooms', unit: 'events/s', target: THROUGHPUT, value: (s) => field(s, 'concurrent100', 'perSecond') },
    { source: 'send-sync', workload: `send-to-/sync delivery p50 (at ${opt('send-sync', 'rate')} events/s)`, unit: 'ms', target: DELIVERY, value: (s) => field(s, 'delivery', 'p50Ms') },
    { source: 'send-sync', workload: `send-to-/sync delivery p99 (at ${opt('send-sync', 'rate')} events/s)`, unit: 'ms', target: DELIVERY, value: (s) => field(s, 'delivery', 'p99Ms') },
    { source: 'initial-sync', workload: `initial /sync, user in ${opt('initial-sync', 'rooms')} rooms`, unit: 'ms', value: (s) => field(s, 'medianMs') },
    {
      source: 'federation',
      workload: 'federation A→B delivery p50',
      unit: 'ms',
      target: DELIVERY,
      absolute: { text: '< 15 ms', pass: (v) => v < 15 },
      value: (s) => field(s, 'delivery', 'p50Ms'),
    },
    { source: 'federation', workload: 'federation A→B delivery p99', unit: 'ms', target: DELIVERY, value: (s) => field(s, 'delivery', 'p99Ms') },
    { source: 'federation', workload: `federation A→B throughput, ${opt('federation', 'senders')} senders on A (arrived at B)`, unit: 'events/s', value: (s) => field(s, 'throughput', 'deliveredPerSecond') },
    {
      source: 'federation',
      workload: `join over federation, room of ${opt('federation', 'members')} members`,
      unit: 'ms',
      absolute: { text: `< 10 s${opt('federation', 'members') === '10,000' ? '' : ' (set for 10,000)'}`, pass: (v, s) => v < 10_000 && (s['join'] as Json | undefined)?.['complete'] === true },
      value: (s) => field(s, 'join', 'joinMs'),
    },
    { source: 'send-sync', workload: 'idle resident memory', unit: 'MB', target: MEMORY, value: (s) => field(s, 'idleRssMb') },
    { source: 'send-sync', workload: 'resident memory after the load', unit: 'MB', target: MEMORY, value: (s) => field(s, 'afterLoadRssMb') },
    {
      source: 'db-size',
      workload: `database size, ${opt('db-size', 'events')} events in a ${opt('db-size', 'members')}-member room`,
      unit: 'MB',
      target: DB_SIZE,
      engines: ['postgres'],
      value: (s) => field(s, 'afterMb'),
    },
  ];
}

async function load(dir: string, date: string, source: Source): Promise<Result | undefined> {
  const file = join(dir, `${date}-${source}.json`);
  if (!existsSync(file)) return undefined;
  const json = JSON.parse(await readFile(file, 'utf8')) as Json;
  const machine = (json['machine'] ?? {}) as Json;
  return {
    file,
    date: typeof json['date'] === 'string' ? json['date'] : undefined,
    loadavg: machine['loadavg'],
    options: (json['options'] ?? {}) as Json,
    servers: Array.isArray(json['servers']) ? (json['servers'] as Json[]) : [],
    notes: Array.isArray(json['notes']) ? (json['notes'] as unknown[]).map(String) : [],
  };
}

const COMPARISONS = [
  { stoa: 'stoa-pglite', synapse: 'synapse-sqlite', engine: 'pglite' },
  { stoa: 'stoa-postgres', synapse: 'synapse-postgres', engine: 'postgres' },
] as const;

export interface SummaryRow {
  readonly workload: string;
  readonly unit: string;
  readonly stoa: string;
  readonly synapse: string | undefined;
  readonly stoaValue: number | undefined;
  readonly synapseValue: number | undefined;
  /** Stoa / Synapse. */
  readonly ratio: number | undefined;
  readonly target: string | undefined;
  readonly pass: boolean | undefined;
  readonly absoluteTarget: string | undefined;
  readonly absolutePass: boolean | undefined;
  readonly note: string | undefined;
}

function ok(server: Json | undefined): server is Json {
  return server !== undefined && server['error'] === undefined;
}

function summarise(results: Partial<Record<Source, Result>>): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const comparison of COMPARISONS) {
    for (const row of rows(results)) {
      if (row.engines !== undefined && !row.engines.includes(comparison.engine)) continue;
      const result = results[row.source];
      if (result === undefined) continue;
      const stoa = result.servers.find((s) => s['label'] === comparison.stoa);
      if (stoa === undefined) continue;
      const synapses = result.servers.filter((s) => s['product'] === 'synapse' && ok(s));
      const synapse = synapses.find((s) => s['label'] === comparison.synapse) ?? (row.engines === undefined ? synapses[0] : undefined);
      const stoaValue = ok(stoa) ? row.value(stoa) : undefined;
      const synapseValue = synapse === undefined ? undefined : row.value(synapse);
      const ratio = stoaValue !== undefined && synapseValue !== undefined && synapseValue !== 0 ? stoaValue / synapseValue : undefined;
      const notes: string[] = [];
      if (!ok(stoa)) notes.push(`Stoa failed: ${String(stoa['error'])}`);
      if (synapse === undefined) notes.push('no Synapse result');
      else if (synapse['label'] !== comparison.synapse) notes.push(`${String(synapse['label'])} stands in for ${comparison.synapse}`);
      out.push({
        workload: row.workload,
        unit: row.unit,
        stoa: comparison.stoa,
        synapse: synapse === undefined ? undefined : String(synapse['label']),
        stoaValue,
        synapseValue,
        ratio,
        target: row.target?.text,
        pass: row.target === undefined || ratio === undefined || stoaValue === undefined ? undefined : row.target.pass(ratio),
        absoluteTarget: row.absolute?.text,
        absolutePass: row.absolute === undefined || stoaValue === undefined ? undefined : row.absolute.pass(stoaValue, stoa),
        note: notes.length === 0 ? undefined : notes.join('; '),
      });
    }
  }
  return out;
}

function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function ratioText(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '—';
  return ratio >= 10 ? ratio.toFixed(0) : ratio >= 1 ? ratio.toFixed(1) : ratio >= 0.01 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? '—' : pass ? 'pass' : '**FAIL**';
}

function markdown(date: string, summary: readonly SummaryRow[], results: Partial<Record<Source, Result>>): string {
  const lines = [`# Stoa against Synapse, ${date}`, ''];
  lines.push('Ratios are Stoa / Synapse, measured in the same run on the same machine (issue 12). Latency, memory and size: lower is better; throughput: higher is better.', '');
  for (const comparison of COMPARISONS) {
    const mine = summary.filter((r) => r.stoa === comparison.stoa);
    if (mine.length === 0) continue;
    lines.push(`## ${comparison.stoa} against ${comparison.synapse}`, '');
    lines.push('| workload | Stoa | Synapse | Stoa / Synapse | target | result | absolute target | result |', '|---|---:|---:|---:|---|---|---|---|');
    for (const r of mine) {
      const synapse = r.synapse !== undefined && r.synapse !== comparison.synapse ? `${fmt(r.synapseValue)} (${r.synapse})` : fmt(r.synapseValue);
      lines.push(`| ${r.workload} (${r.unit}) | ${fmt(r.stoaValue)} | ${synapse} | ${ratioText(r.ratio)} | ${r.target ?? '—'} | ${verdict(r.pass)} | ${r.absoluteTarget ?? '—'} | ${verdict(r.absolutePass)} |`);
    }
    const notes = mine.filter((r) => r.note !== undefined).map((r) => `- ${r.workload}: ${r.note ?? ''}`);
    if (notes.length > 0) lines.push('', ...notes);
    lines.push('');
  }
  lines.push('## Sources', '');
  for (const source of SOURCES) {
    const result = results[source];
    if (result === undefined) {
      lines.push(`- ${source}: not run on ${date}`);
      continue;
    }
    const load = Array.isArray(result.loadavg) ? ` (load average ${(result.loadavg as unknown[]).map((v) => fmt(num(v))).join(', ')})` : '';
    lines.push(`- ${source}: \`${result.file}\`, ${result.date ?? 'undated'}${load}`);
    for (const note of result.notes) lines.push(`  - ${note}`);
    for (const failed of result.servers.filter((s) => !ok(s))) lines.push(`  - ${String(failed['label'])} did not complete: ${String(failed['error'])}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['--date', '--results'], USAGE);
  const date = flags.get('--date') ?? dateStamp();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`--date wants YYYY-MM-DD, got ${date}`);
  const dir = flags.get('--results') ?? RESULTS_DIR;
  const results: Partial<Record<Source, Result>> = {};
  for (const source of SOURCES) {
    const result = await load(dir, date, source);
    if (result !== undefined) results[source] = result;
  }
  if (Object.keys(results).length === 0) {
    process.stderr.write(`no benchmark results for ${date} in ${dir}\n`);
    process.exit(1);
  }
  const summary = summarise(results);
  const text = markdown(date, summary, results);
  const jsonFile = join(dir, `${date}.json`);
  const mdFile = join(dir, `${date}.md`);
  const sources = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { file: r.file, date: r.date }]));
  await writeFile(jsonFile, `${JSON.stringify({ date, generated: new Date().toISOString(), sources, rows: summary }, null, 2)}\n`);
  await writeFile(mdFile, text);
  process.stdout.write(`${text}\nWritten: ${jsonFile}, ${mdFile}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
