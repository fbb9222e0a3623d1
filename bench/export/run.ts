// Benchmark: audit export and offline verification of one large room (issue 8). Target:
// at least 20,000 events/s both ways for a 1,000,000-event room, peak memory under 200 MB.
//
//   node bench/export/run.ts [--events 1000000] [--workers N] [--engine pglite|postgres] [--heap-mb 96]
//                            [--cpu-prof DIR] [--keep 1]
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
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { exportRoom } from '../../src/admin/export/exporter.ts';
import { syntheticRoomRows } from '../../src/admin/export/testing.ts';
import { verifyExport } from '../../src/admin/export/verifier.ts';
import type { DatabaseConfig } from '../../src/config/types.ts';
import { testKey } from '../../src/roomserver/testing.ts';
import { migrateToLatest, openDatabase, ServerKeysRepository } from '../../src/storage/index.ts';

const TARGET_EVENTS_PER_SECOND = 20_000;
const TARGET_PEAK_MB = 200;
const INSERT_BATCH = 1000;
const HOME = { name: 'home.bench', key: testKey(21) };
const ORIGIN = { name: 'origin.bench', key: testKey(22) };

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
  const db = await openDatabase(databaseConfig(dir));
  let roomId = '';
  const m = await measure(async () => {
    const report = await migrateToLatest(db);
    if (report.error !== undefined) throw report.error;
    await new ServerKeysRepository(db.kysely).upsert([
      { serverName: ORIGIN.name, keyId: ORIGIN.key.keyId, publicKey: ORIGIN.key.publicKeyBase64, validUntilTs: null, expiredTs: null, fetchedTs: 1, keyJson: '{}' },
    ]);
    let batch: Array<Record<string, unknown>> = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      // The bench writes rows directly (see the header); the column set is the events table's.
      await db.kysely.insertInto('events').values(batch as never).execute();
      batch = [];
    };
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
      if (batch.length >= INSERT_BATCH) await flush();
      if (n % 100_000 === 0) process.stderr.write(`  loaded ${n} events\n`);
    }
    await flush();
  });
  await db.close();
  return { ...result('load', events, m), roomId };
}

async function exportPhase(dir: string, roomId: string): Promise<PhaseResult> {
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
  const workersText = option('workers', '');
  const m = await measure(() => verifyExport(path.join(dir, 'bundle'), workersText === '' ? {} : { workers: Number(workersText) }));
  return { ...result('verify', m.value.stats.events, m), ok: m.value.ok };
}

/** Runs this file as `--phase NAME` in a child process and returns its JSON line. */
function child(phase: string, dir: string, extra: readonly string[]): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    // A capped heap shows the memory the phase needs; uncapped, V8 collects lazily and RSS
    // grows with whatever the machine lets it have.
    const heap = `--max-old-space-size=${option('heap-mb', '96')}`;
    // --cpu-prof DIR: a V8 CPU profile of each phase (open in Chrome DevTools or speedscope).
    const profDir = option('cpu-prof', '');
    const prof = profDir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${phase}.cpuprofile`];
    const proc = spawn(process.execPath, [heap, ...prof, fileURLToPath(import.meta.url), '--phase', phase, '--dir', dir, ...extra], {
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
  const events = Number(option('events', '1000000'));
  const engine = option('engine', 'pglite');
  const dir = await mkdtemp(path.join(tmpdir(), 'stoa-bench-export-'));
  const postgres = engine === 'postgres' ? await createBenchDatabase() : undefined;
  const passOn = ['--events', String(events), ...(postgres === undefined ? [] : ['--postgres', postgres.url])];
  try {
    process.stderr.write(`loading ${events} events into ${dir}\n`);
    const loaded = await child('load', dir, passOn);
    const exported = await child('export', dir, [...passOn, '--room', loaded.roomId ?? '']);
    const verified = await child('verify', dir, [...passOn, ...(option('workers', '') === '' ? [] : ['--workers', option('workers', '')])]);
    const meets = (r: PhaseResult): boolean => r.eventsPerSecond >= TARGET_EVENTS_PER_SECOND && r.peakRssMb < TARGET_PEAK_MB;
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'export',
          events,
          cores: availableParallelism(),
          engine,
          target: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, peakRssMb: TARGET_PEAK_MB },
          load: loaded,
          export: { ...exported, meetsTarget: meets(exported) },
          verify: { ...verified, meetsTarget: meets(verified) },
        },
        null,
        2,
      )}\n`,
    );
    if (verified.ok !== true) process.exitCode = 1;
  } finally {
    if (option('keep', '') === '') await rm(dir, { recursive: true, force: true });
    await postgres?.drop();
  }
}

async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
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
