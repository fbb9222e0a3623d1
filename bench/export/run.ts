// Benchmark: audit export and offline verification of one large room (issue 8). Target:
// at least 20,000 events/s both ways for a 1,000,000-event room, peak memory under 200 MB.
//
//   node bench/export/run.ts [--events 1000000] [--workers N] [--engine pglite|postgres] [--heap-mb 96]
//                            [--v8-defaults 0] [--cpu-prof DIR] [--keep 1] [--reuse DIR] [--only export|verify]
//
// Each phase runs with the old generation capped at --heap-mb and with the V8 flags
// `stoa start` runs with (SERVER_V8_FLAGS: a 4 MB young generation); --v8-defaults 0 leaves
// the young generation at V8's default. The report lists the flags. Measured (200k events):
// at V8's default young generation (16 MB semi-spaces, three times over) the young
// generation alone takes some 70 MB of RSS, and with the old generation capped V8 runs a
// full collection every few tens of milliseconds — half the export's CPU time.
//
// --keep 1 keeps the work directory and (on PostgreSQL) the database, and records both in
// DIR/bench.json; --reuse DIR then runs the export and verify phases again on that data
// without loading it again (--only runs one of them). Drop a kept database by hand.
//
// --engine postgres creates a throwaway database on the server STOA_TEST_POSTGRES_URL names
// (default postgres://postgres@127.0.0.1:5432/postgres) and drops it afterwards. PGlite
// itself takes about 1 GB of RSS when it opens (its WebAssembly heap), so on PGlite the
// memory that matters is the growth over the RSS right after the database opened, which
// the report gives as `rssGrowthMb`; on PostgreSQL the peak RSS is the export's own.
//
// Phases, each in its own process so each one's peak RSS is its own:
//   load    a room of signed events from two servers (a local one and a fake remote
//           origin), written straight into the events table in bulk (not through the
//           roomserver: this measures the export, not the event pipeline);
//   export  `exportRoom` from the database to a bundle directory;
//   verify  `verifyExport` of that bundle (worker threads, one per core by default).
// Prints one JSON document: events/s (wall clock, and per CPU-second: on a shared machine
// the wall clock measures the neighbours too) and peak RSS (MB) of export and verify.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatabaseConfig } from '../../src/config/types.ts';
import { SERVER_V8_FLAGS } from '../../src/cli/v8-flags.ts';
import { signingKeyFromSeed } from '../../src/crypto/signing-key.ts';
// Each phase imports only what it uses, so the verify phase's RSS is the verifier's (as in
// `stoa verify-export`, which loads no database driver), not the database code's.

const TARGET_EVENTS_PER_SECOND = 20_000;
const TARGET_PEAK_MB = 200;
// 2,000 rows × 17 columns stays under PostgreSQL's 65,535 bind parameters per statement.
const INSERT_BATCH = 2000;
// The keys `testKey(21)` and `testKey(22)` of roomserver/testing.ts, without loading the
// roomserver into every phase.
const HOME = { name: 'home.bench', key: signingKeyFromSeed('test', new Uint8Array(32).fill(21)) };
const ORIGIN = { name: 'origin.bench', key: signingKeyFromSeed('test', new Uint8Array(32).fill(22)) };

interface PhaseResult {
  readonly phase: string;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly peakRssMb: number;
  /** Peak RSS minus the RSS when the phase started its work (after the database opened). */
  readonly rssGrowthMb: number;
  readonly cpuSeconds: number;
  readonly eventsPerCpuSecond: number;
  readonly ok?: boolean;
  readonly roomId?: string;
}

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

function databaseConfig(dir: string): DatabaseConfig {
  const url = option('postgres', '');
  return url === '' ? { engine: 'pglite', path: path.join(dir, 'db') } : { engine: 'postgres', url };
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Wall time, CPU time (all threads) and RSS growth of `work`, sampling RSS every 50 ms. */
async function measure<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number; rssGrowthMb: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    const used = process.cpuUsage(cpu);
    return {
      value,
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      rssGrowthMb: Math.round((peak - baseline) / 1048576),
    };
  } finally {
    clearInterval(sampler);
  }
}

function result(phase: string, events: number, m: { seconds: number; cpuSeconds: number; rssGrowthMb: number }): PhaseResult {
  return {
    phase,
    events,
    seconds: Math.round(m.seconds * 100) / 100,
    eventsPerSecond: Math.round(events / m.seconds),
    cpuSeconds: Math.round(m.cpuSeconds * 100) / 100,
    eventsPerCpuSecond: Math.round(events / m.cpuSeconds),
    peakRssMb: peakRssMb(),
    rssGrowthMb: m.rssGrowthMb,
  };
}

async function load(dir: string, events: number): Promise<PhaseResult> {
  const { migrateToLatest, openDatabase, ServerKeysRepository } = await import('../../src/storage/index.ts');
  const { syntheticRoomRows } = await import('../../src/admin/export/testing.ts');
  const db = await openDatabase(databaseConfig(dir));
  let roomId = '';
  const m = await measure(async () => {
    const report = await migrateToLatest(db);
    if (report.error !== undefined) throw report.error;
    await new ServerKeysRepository(db.kysely).upsert([
      { serverName: ORIGIN.name, keyId: ORIGIN.key.keyId, publicKey: ORIGIN.key.publicKeyBase64, validUntilTs: null, expiredTs: null, fetchedTs: 1, keyJson: '{}' },
    ]);
    // One insert in flight while the next batch is signed: the database and the event
    // generation (ed25519 signing, hashing) run on different cores.
    let inFlight: Promise<unknown> = Promise.resolve();
    const insert = async (batch: Array<Record<string, unknown>>): Promise<void> => {
      await inFlight;
      // The bench writes rows directly (see the header); the column set is the events table's.
      inFlight = db.kysely.insertInto('events').values(batch as never).execute();
      // A failure surfaces at the next await of inFlight, not as an unhandled rejection.
      inFlight.catch(() => undefined);
      // Let the driver send the statement before the next batch is generated synchronously.
      await new Promise((resolve) => setImmediate(resolve));
    };
    let batch: Array<Record<string, unknown>> = [];
    let n = 0;
    for (const row of syntheticRoomRows({ roomVersion: '12', events: events - 1, servers: [HOME, ORIGIN], firstTs: Date.now() - events })) {
      if (roomId === '') roomId = `!${row.eventId.slice(1)}`;
      batch.push({
        event_id: row.eventId,
        room_id: roomId,
        stream_ordering: row.streamOrdering,
        depth: ++n,
        type: row.type,
        state_key: row.stateKey,
        sender: row.sender,
        origin_server_ts: row.originServerTs,
        json: row.json,
        room_version: row.roomVersion,
        outlier: false,
        rejected_reason: null,
        soft_failed: false,
        redacted_by: null,
        redacts: null,
        state_before_snapshot_id: null,
        received_ts: row.receivedTs,
      });
      if (batch.length >= INSERT_BATCH) {
        await insert(batch);
        batch = [];
      }
      if (n % 100_000 === 0) process.stderr.write(`  loaded ${n} events\n`);
    }
    if (batch.length > 0) await insert(batch);
    await inFlight;
  });
  await db.close();
  return { ...result('load', events, m), roomId };
}

async function exportPhase(dir: string, roomId: string): Promise<PhaseResult> {
  const { openDatabase } = await import('../../src/storage/index.ts');
  const { exportRoom } = await import('../../src/admin/export/exporter.ts');
  const db = await openDatabase(databaseConfig(dir));
  try {
    const m = await measure(() =>
      exportRoom(
        { db, serverName: HOME.name, signingKey: HOME.key, stateBefore: async () => undefined },
        { roomId, outDir: path.join(dir, 'bundle') },
      ),
    );
    return result('export', m.value.manifest.counts.events, m);
  } finally {
    await db.close();
  }
}

async function verifyPhase(dir: string): Promise<PhaseResult> {
  const { verifyExport } = await import('../../src/admin/export/verifier.ts');
  const workersText = option('workers', '');
  const m = await measure(() => verifyExport(path.join(dir, 'bundle'), workersText === '' ? {} : { workers: Number(workersText) }));
  return { ...result('verify', m.value.stats.events, m), ok: m.value.ok };
}

/**
 * A capped heap shows the memory the phase needs; uncapped, V8 collects lazily and RSS
 * grows with whatever the machine lets it have. See the header for the young generation.
 */
function phaseV8Flags(): string[] {
  return [`--max-old-space-size=${option('heap-mb', '96')}`, ...(option('v8-defaults', '1') === '0' ? [] : SERVER_V8_FLAGS)];
}

/** Runs this file as `--phase NAME` in a child process and returns its JSON line. */
function child(phase: string, dir: string, extra: readonly string[]): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const v8Flags = phaseV8Flags();
    // --cpu-prof DIR: a V8 CPU profile of each phase (open in Chrome DevTools or speedscope).
    const profDir = option('cpu-prof', '');
    const prof = profDir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${phase}.cpuprofile`];
    const proc = spawn(process.execPath, [...v8Flags, ...prof, fileURLToPath(import.meta.url), '--phase', phase, '--dir', dir, ...extra], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code !== 0) reject(new Error(`phase ${phase} exited with ${String(code)}`));
      else resolve(JSON.parse(out) as PhaseResult);
    });
  });
}

const phase = option('phase', '');
if (phase !== '') {
  const dir = option('dir', '');
  const result =
    phase === 'load'
      ? await load(dir, Number(option('events', '1000000')))
      : phase === 'export'
        ? await exportPhase(dir, option('room', ''))
        : await verifyPhase(dir);
  process.stdout.write(JSON.stringify(result));
} else {
  await orchestrate();
}

/** What --keep records and --reuse reads back. */
interface KeptRun {
  readonly events: number;
  readonly engine: string;
  readonly postgres: string | null;
  readonly roomId: string;
}

async function orchestrate(): Promise<void> {
  const reuse = option('reuse', '');
  const kept: KeptRun | undefined = reuse === '' ? undefined : (JSON.parse(await readFile(path.join(reuse, 'bench.json'), 'utf8')) as KeptRun);
  const events = kept?.events ?? Number(option('events', '1000000'));
  const engine = kept?.engine ?? option('engine', 'pglite');
  const keep = option('keep', '') !== '' || kept !== undefined;
  const dir = reuse === '' ? await mkdtemp(path.join(tmpdir(), 'stoa-bench-export-')) : reuse;
  const postgres =
    kept !== undefined ? (kept.postgres === null ? undefined : { url: kept.postgres, drop: async () => {} }) : engine === 'postgres' ? await createBenchDatabase() : undefined;
  const passOn = ['--events', String(events), ...(postgres === undefined ? [] : ['--postgres', postgres.url])];
  const only = option('only', '');
  try {
    let loaded: PhaseResult | undefined;
    if (kept === undefined) {
      process.stderr.write(`loading ${events} events into ${dir}\n`);
      loaded = await child('load', dir, passOn);
      if (keep) {
        const record: KeptRun = { events, engine, postgres: postgres?.url ?? null, roomId: loaded.roomId ?? '' };
        await writeFile(path.join(dir, 'bench.json'), `${JSON.stringify(record)}\n`);
        process.stderr.write(`kept: ${dir} (rerun with --reuse ${dir})\n`);
      }
    }
    const roomId = kept?.roomId ?? loaded?.roomId ?? '';
    const bundle = path.join(dir, 'bundle');
    let exported: PhaseResult | undefined;
    if (only === '' || only === 'export') {
      await rm(bundle, { recursive: true, force: true });
      exported = await child('export', dir, [...passOn, '--room', roomId]);
    }
    const verified =
      only === '' || only === 'verify'
        ? await child('verify', dir, [...passOn, ...(option('workers', '') === '' ? [] : ['--workers', option('workers', '')])])
        : undefined;
    const meets = (r: PhaseResult): boolean => r.eventsPerSecond >= TARGET_EVENTS_PER_SECOND && r.peakRssMb < TARGET_PEAK_MB;
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'export',
          events,
          cores: availableParallelism(),
          engine,
          v8Flags: phaseV8Flags(),
          target: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, peakRssMb: TARGET_PEAK_MB },
          ...(loaded === undefined ? {} : { load: loaded }),
          ...(exported === undefined ? {} : { export: { ...exported, meetsTarget: meets(exported) } }),
          ...(verified === undefined ? {} : { verify: { ...verified, meetsTarget: meets(verified) } }),
        },
        null,
        2,
      )}\n`,
    );
    if (verified !== undefined && verified.ok !== true) process.exitCode = 1;
  } finally {
    if (!keep) {
      await rm(dir, { recursive: true, force: true });
      await postgres?.drop();
    }
  }
}

async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const admin = process.env['STOA_TEST_POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `stoa_bench_${randomBytes(5).toString('hex')}`;
  const run = async (statement: string): Promise<void> => {
    const client = new pg.Client(admin);
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
