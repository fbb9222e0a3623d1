// Benchmark: database size after many events in one large room, Stoa on PostgreSQL against
// Synapse on PostgreSQL (the same PostgreSQL server, each in a throwaway database).
//
//   node bench/db-size/run.ts [--servers synapse-postgres,stoa-postgres] [--members 1000]
//        [--events 100000] [--senders 20] [--postgres-url URL] [--out bench/results]
//
// `pg_database_size` of the server's database right after start (the empty schema), then
// after `--members` users joined one room and `--events` messages were sent into it by
// those members (`--senders` at a time, round robin). Reported: the size after, the growth,
// and bytes per event. Issue 12's target: Stoa's database at most 1/5 of Synapse's.
// Writes bench/results/<YYYY-MM-DD>-db-size.json and prints a Markdown table.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { testPostgresUrl } from '../../spec-tests/rig/nodes.ts';
import { inParallel, parseFlags, choiceListFlag, intFlag, progressFor, registerMany, RESULTS_DIR, runTag, stopOnInterrupt, writeResult } from '../lib/common.ts';
import { MatrixHttp } from '../send-sync/matrix-http.ts';
import { ensureSynapseInstalled, startStoa, startSynapse, type BenchServer } from '../send-sync/servers.ts';
import { round } from '../send-sync/stats.ts';

const ALL_SERVERS = ['synapse-postgres', 'stoa-postgres'] as const;
type ServerName = (typeof ALL_SERVERS)[number];

const USAGE = `usage: node bench/db-size/run.ts [options]
  --servers a,b        ${ALL_SERVERS.join(', ')} (default: both)
  --members N          members of the room (1000)
  --events N           messages sent into it (100000)
  --senders N          concurrent senders (20)
  --postgres-url URL   an account that may create roles and databases (default STOA_TEST_POSTGRES_URL)
  --out DIR            where the JSON goes (bench/results)`;

interface Options {
  servers: ServerName[];
  members: number;
  events: number;
  senders: number;
  postgresUrl: string | undefined;
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const flags = parseFlags(argv, ['--servers', '--members', '--events', '--senders', '--postgres-url', '--out'], USAGE);
  const int = (flag: string, fallback: number): number => intFlag(flags, flag, fallback);
  const servers = choiceListFlag(flags, '--servers', ALL_SERVERS, 'server');
  return {
    servers: servers,
    members: int('--members', 1000),
    events: int('--events', 100_000),
    senders: int('--senders', 20),
    postgresUrl: flags.get('--postgres-url') ?? testPostgresUrl(),
    out: flags.get('--out') ?? RESULTS_DIR,
  };
}

const progress = progressFor('db-size');
const MB = 1024 * 1024;

export interface DbSizeSummary {
  readonly label: string;
  readonly product: 'stoa' | 'synapse';
  readonly engine: string;
  readonly error?: string;
  readonly members?: number;
  readonly events?: number;
  readonly emptyMb?: number;
  readonly afterMb?: number;
  readonly growthMb?: number;
  readonly bytesPerEvent?: number;
  readonly sendsPerSecond?: number;
  /** The largest tables, with their indexes and TOAST, MB. */
  readonly largestTables?: Readonly<Record<string, number>>;
}

async function largestTables(adminUrl: string, name: string): Promise<Record<string, number>> {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const res = await client.query<{ name: string; size: string }>(
      `select c.relname as name, pg_total_relation_size(c.oid)::text as size from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') order by pg_total_relation_size(c.oid) desc limit 8`,
    );
    return Object.fromEntries(res.rows.map((row) => [row.name, round(Number(row.size) / MB, 1)]));
  } finally {
    await client.end();
  }
}

async function databaseSize(adminUrl: string, name: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const res = await client.query<{ size: string }>('select pg_database_size($1)::text as size', [name]);
    return Number(res.rows[0]?.size ?? Number.NaN);
  } finally {
    await client.end();
  }
}

function start(name: ServerName, options: Options): Promise<BenchServer> {
  switch (name) {
    case 'stoa-postgres': return startStoa('postgres', options.postgresUrl);
    // Cheap password hashes: registering the members is set-up, not what is measured.
    case 'synapse-postgres': return startSynapse('postgres', options.postgresUrl, { name: 'bench-db-size', extraYaml: 'bcrypt_rounds: 4\n' });
  }
}

async function measure(name: ServerName, options: Options, adminUrl: string): Promise<DbSizeSummary> {
  const product = name.startsWith('stoa') ? 'stoa' : 'synapse';
  let server: BenchServer | undefined;
  let forget = (): void => undefined;
  let http: MatrixHttp | undefined;
  try {
    progress(`${name}: starting`);
    server = await start(name, options);
    const started = server;
    forget = stopOnInterrupt(() => started.stop());
    const database = server.databaseName;
    if (database === undefined) throw new Error('the server reports no PostgreSQL database');
    const empty = await databaseSize(adminUrl, database);
    const client = new MatrixHttp(server.clientUrl, Math.max(16, options.senders));
    http = client;
    // Ordinary users, not appservice ones: Synapse computes no push actions for exclusive
    // appservice users, which would leave out what real members cost (notification rows).
    const members = await registerMany(client, server.registrationSharedSecret, `dbsize_${runTag()}_`, options.members, 8);
    const [owner, ...others] = members;
    if (owner === undefined) throw new Error('no members');
    const roomId = await client.createRoom(owner, { preset: 'public_chat', name: 'db-size bench' });
    await inParallel(others.length, 16, (i) => client.join(others[i] as (typeof others)[number], roomId));
    progress(`${name}: room of ${options.members} members; sending ${options.events} events`);
    let next = 0;
    let lastReport = performance.now();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.senders }, async () => {
        while (next < options.events) {
          const i = next++;
          const sender = members[i % members.length] ?? owner;
          // A chat line of ordinary length.
          await client.send(sender, roomId, { msgtype: 'm.text', body: `db-size message ${i}: the quick brown fox jumps over the lazy dog` });
          if (performance.now() - lastReport > 10_000) {
            lastReport = performance.now();
            progress(`${name}: ${i + 1}/${options.events} events`);
          }
        }
      }),
    );
    const sendsPerSecond = round(options.events / ((performance.now() - t0) / 1000), 1);
    // Let background writers (Synapse's caches and stream tables) settle before measuring.
    await sleep(3000);
    const after = await databaseSize(adminUrl, database);
    const tables = await largestTables(adminUrl, database);
    return {
      label: name,
      product,
      engine: 'postgres',
      members: options.members,
      events: options.events,
      emptyMb: round(empty / MB, 1),
      afterMb: round(after / MB, 1),
      growthMb: round((after - empty) / MB, 1),
      bytesPerEvent: Math.round((after - empty) / options.events),
      sendsPerSecond,
      largestTables: tables,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`${name}: FAILED: ${message}`);
    return { label: name, product, engine: 'postgres', error: message };
  } finally {
    await http?.close();
    await server?.stop().catch((error: unknown) => progress(`${name}: stop failed: ${String(error)}`));
    forget();
  }
}

function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function markdownReport(servers: readonly DbSizeSummary[], options: Options): string {
  const lines = ['| server | empty (MB) | after (MB) | growth (MB) | bytes/event | sends/s |', '|---|---:|---:|---:|---:|---:|'];
  for (const s of servers.filter((x) => x.error === undefined)) {
    lines.push(`| ${s.label} | ${fmt(s.emptyMb)} | ${fmt(s.afterMb)} | ${fmt(s.growthMb)} | ${fmt(s.bytesPerEvent)} | ${fmt(s.sendsPerSecond)} |`);
  }
  const stoa = servers.find((s) => s.product === 'stoa' && s.error === undefined);
  const synapse = servers.find((s) => s.product === 'synapse' && s.error === undefined);
  lines.push('', `${options.members} members, ${options.events} events.`);
  if (stoa?.afterMb !== undefined && synapse?.afterMb !== undefined) {
    const ratio = stoa.afterMb / synapse.afterMb;
    lines.push(`Stoa / Synapse database size: ${ratio.toFixed(2)} (target ≤ 0.20: ${ratio <= 0.2 ? 'pass' : '**FAIL**'}); growth only: ${((stoa.growthMb ?? Number.NaN) / (synapse.growthMb ?? Number.NaN)).toFixed(2)}.`);
  }
  for (const s of servers.filter((x) => x.largestTables !== undefined)) {
    lines.push('', `${s.label}, largest tables (MB, with indexes): ${Object.entries(s.largestTables ?? {}).map(([table, mb]) => `${table} ${fmt(mb)}`).join(', ')}`);
  }
  for (const failed of servers.filter((s) => s.error !== undefined)) lines.push(`\n**${failed.label} did not complete:** ${failed.error}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const notes: string[] = [];
  const summaries: DbSizeSummary[] = [];
  const adminUrl = options.postgresUrl;
  if (adminUrl === undefined) {
    notes.push('no --postgres-url or STOA_TEST_POSTGRES_URL: nothing measured (both servers run on PostgreSQL here)');
    progress(notes[0] ?? '');
  } else {
    if (options.servers.includes('synapse-postgres')) {
      try {
        await ensureSynapseInstalled();
      } catch (error) {
        const note = `the Synapse peer could not be installed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): Stoa alone, no ratio`;
        progress(note);
        notes.push(note);
        options.servers = options.servers.filter((s) => s !== 'synapse-postgres');
      }
    }
    for (const name of options.servers) summaries.push(await measure(name, options, adminUrl));
  }
  const file = await writeResult(options.out, 'db-size', {
    options: { ...options, postgresUrl: options.postgresUrl === undefined ? undefined : '(set)' },
    notes,
    servers: summaries,
  });
  process.stdout.write(`${markdownReport(summaries, options)}\n${notes.map((n) => `\nNote: ${n}`).join('')}\n\nFull results: ${file}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
process.exit(0);
