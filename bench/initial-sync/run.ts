// Benchmark: initial /sync for a user in many rooms, Stoa against the Synapse peer, one
// server at a time.
//
//   node bench/initial-sync/run.ts [--servers synapse-sqlite,stoa-pglite,synapse-postgres,stoa-postgres]
//        [--rooms 200] [--messages 5] [--repeats 5] [--postgres-url URL] [--out bench/results]
//
// One user creates `--rooms` rooms (public preset, so each holds the usual creation state)
// and sends `--messages` messages into each. Then, `--repeats` times, the user logs in
// afresh (a new device: Synapse caches /sync responses per device for a while, a new
// device cannot hit that cache) and times `GET /sync` without `since` or filter, the way a
// client's first start asks for everything. Every room must be in the response.
// Writes bench/results/<YYYY-MM-DD>-initial-sync.json and prints a Markdown table.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { testPostgresUrl } from '../../spec-tests/rig/nodes.ts';
import { inParallel, parseFlags, choiceListFlag, intFlag, progressFor, stopOnInterrupt, RESULTS_DIR, runTag, writeResult } from '../lib/common.ts';
import { MatrixHttp, type Session } from '../send-sync/matrix-http.ts';
import { ensureSynapseInstalled, memoryOf, startStoa, startSynapse, type BenchServer } from '../send-sync/servers.ts';
import { median, quantile, round } from '../send-sync/stats.ts';

const ALL_SERVERS = ['synapse-sqlite', 'stoa-pglite', 'synapse-postgres', 'stoa-postgres'] as const;
type ServerName = (typeof ALL_SERVERS)[number];

const USAGE = `usage: node bench/initial-sync/run.ts [options]
  --servers a,b        ${ALL_SERVERS.join(', ')} (default: all; PostgreSQL ones need a URL)
  --rooms N            rooms the user is in (200)
  --messages N         messages per room (5)
  --repeats N          timed initial syncs, median reported (5)
  --postgres-url URL   default STOA_TEST_POSTGRES_URL
  --out DIR            where the JSON goes (bench/results)`;

interface Options {
  servers: ServerName[];
  rooms: number;
  messages: number;
  repeats: number;
  postgresUrl: string | undefined;
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const flags = parseFlags(argv, ['--servers', '--rooms', '--messages', '--repeats', '--postgres-url', '--out'], USAGE);
  const int = (flag: string, fallback: number): number => intFlag(flags, flag, fallback);
  const servers = choiceListFlag(flags, '--servers', ALL_SERVERS, 'server');
  return {
    servers: servers,
    rooms: int('--rooms', 200),
    messages: flags.get('--messages') === '0' ? 0 : int('--messages', 5),
    repeats: int('--repeats', 5),
    postgresUrl: flags.get('--postgres-url') ?? testPostgresUrl(),
    out: flags.get('--out') ?? RESULTS_DIR,
  };
}

const progress = progressFor('initial-sync');

export interface InitialSyncSummary {
  readonly label: string;
  readonly product: 'stoa' | 'synapse';
  readonly engine: string;
  readonly error?: string;
  readonly rooms?: number;
  readonly medianMs?: number;
  readonly minMs?: number;
  readonly maxMs?: number;
  /** Size of the response body, bytes (median). */
  readonly responseBytes?: number;
  readonly setUpSeconds?: number;
  readonly rssAfterMb?: number;
  readonly runsMs?: readonly number[];
}

function start(name: ServerName, options: Options): Promise<BenchServer> {
  switch (name) {
    case 'stoa-pglite': return startStoa('pglite', undefined);
    case 'stoa-postgres': return startStoa('postgres', options.postgresUrl);
    case 'synapse-sqlite': return startSynapse('sqlite', undefined, { name: 'bench-initial-sync-sqlite' });
    case 'synapse-postgres': return startSynapse('postgres', options.postgresUrl, { name: 'bench-initial-sync-postgres' });
  }
}

async function login(http: MatrixHttp, userId: string, password: string): Promise<Session> {
  const res = await http.call<{ user_id: string; access_token: string }>('POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password, initial_device_display_name: 'initial-sync bench' },
  });
  return { userId: res.user_id, accessToken: res.access_token };
}

async function measure(name: ServerName, options: Options): Promise<InitialSyncSummary> {
  const product = name.startsWith('stoa') ? 'stoa' : 'synapse';
  const engine = name.split('-')[1] ?? '';
  let server: BenchServer | undefined;
  let forget = (): void => undefined;
  let http: MatrixHttp | undefined;
  try {
    progress(`${name}: starting`);
    server = await start(name, options);
    const started = server;
    forget = stopOnInterrupt(() => started.stop());
    // A full initial sync of many rooms can take long on a slow server.
    http = new MatrixHttp(server.clientUrl, 8, 10 * 60_000);
    const setUpStart = performance.now();
    const password = randomBytes(12).toString('hex');
    const user = await http.registerWithSharedSecret(server.registrationSharedSecret, `isync_${runTag()}`, password);
    let created = 0;
    await inParallel(options.rooms, 4, async (r) => {
      const roomId = await (http as MatrixHttp).createRoom(user, { preset: 'public_chat', name: `initial-sync room ${r}`, topic: `room ${r} of ${options.rooms}` });
      for (let m = 0; m < options.messages; m++) await (http as MatrixHttp).send(user, roomId, { msgtype: 'm.text', body: `message ${m} in room ${r}` });
      created += 1;
      if (created % 50 === 0) progress(`${name}: ${created}/${options.rooms} rooms`);
    });
    const setUpSeconds = round((performance.now() - setUpStart) / 1000, 1);
    progress(`${name}: ${options.rooms} rooms with ${options.messages} messages each in ${setUpSeconds} s`);
    const runsMs: number[] = [];
    const sizes: number[] = [];
    for (let r = 1; r <= options.repeats; r++) {
      const session = await login(http, user.userId, password);
      const t0 = performance.now();
      const body = await http.call<{ rooms?: { join?: Record<string, unknown> } }>('GET', '/_matrix/client/v3/sync?timeout=0', { token: session.accessToken });
      const ms = performance.now() - t0;
      const joined = Object.keys(body.rooms?.join ?? {}).length;
      if (joined !== options.rooms) throw new Error(`initial sync run ${r} listed ${joined} joined rooms, expected ${options.rooms}`);
      runsMs.push(round(ms, 1));
      sizes.push(JSON.stringify(body).length);
      progress(`${name} run ${r}: initial sync ${round(ms, 1)} ms`);
    }
    const rssAfterMb = round((await memoryOf(server.pid)).rssMb, 1);
    return {
      label: name,
      product,
      engine,
      rooms: options.rooms,
      medianMs: round(median(runsMs), 1),
      minMs: round(quantile(runsMs, 0), 1),
      maxMs: round(quantile(runsMs, 1), 1),
      responseBytes: Math.round(median(sizes)),
      setUpSeconds,
      rssAfterMb,
      runsMs,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`${name}: FAILED: ${message}`);
    return { label: name, product, engine, error: message };
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

function markdownReport(servers: readonly InitialSyncSummary[], options: Options): string {
  const ok = servers.filter((s) => s.error === undefined);
  const lines = ['| server | initial /sync median (ms) | min | max | response (KB) | Stoa / Synapse |', '|---|---:|---:|---:|---:|---:|'];
  for (const s of ok) {
    let ratio = '—';
    if (s.product === 'stoa') {
      const synapses = ok.filter((p) => p.product === 'synapse');
      const peer = synapses.find((p) => p.engine === (s.engine === 'postgres' ? 'postgres' : 'sqlite')) ?? synapses[0];
      if (peer?.medianMs !== undefined && s.medianMs !== undefined && peer.medianMs > 0) ratio = `${fmt(s.medianMs / peer.medianMs)} (vs ${peer.label})`;
    }
    lines.push(`| ${s.label} | ${fmt(s.medianMs)} | ${fmt(s.minMs)} | ${fmt(s.maxMs)} | ${fmt((s.responseBytes ?? Number.NaN) / 1024)} | ${ratio} |`);
  }
  lines.push('', `${options.rooms} rooms, ${options.messages} messages each; median of ${options.repeats} initial syncs, each from a fresh login. Stoa / Synapse < 1 favours Stoa.`);
  for (const failed of servers.filter((s) => s.error !== undefined)) lines.push(`\n**${failed.label} did not complete:** ${failed.error}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.postgresUrl === undefined) {
    const skipped = options.servers.filter((s) => s.endsWith('postgres'));
    if (skipped.length > 0) progress(`no --postgres-url or STOA_TEST_POSTGRES_URL: skipping ${skipped.join(', ')}`);
    options.servers = options.servers.filter((s) => !s.endsWith('postgres'));
  }
  const notes: string[] = [];
  if (options.servers.some((s) => s.startsWith('synapse'))) {
    try {
      await ensureSynapseInstalled();
    } catch (error) {
      const note = `the Synapse peer could not be installed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): Stoa alone, no ratios`;
      progress(note);
      notes.push(note);
      options.servers = options.servers.filter((s) => !s.startsWith('synapse'));
    }
  }
  const summaries: InitialSyncSummary[] = [];
  for (const name of options.servers) summaries.push(await measure(name, options));
  const file = await writeResult(options.out, 'initial-sync', {
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
