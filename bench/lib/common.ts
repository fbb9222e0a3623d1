// What the benchmarks share beyond the send/sync modules: option parsing, parallel batches
// of users, and writing `bench/results/<YYYY-MM-DD>-<name>.json` the way bench/summary.ts
// reads it back.

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../spec-tests/rig/nodes.ts';
import type { MatrixHttp, Session } from '../send-sync/matrix-http.ts';

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/** The UTC date a result file is named by. */
export function dateStamp(at: Date = new Date()): string {
  return at.toISOString().slice(0, 10);
}

export function machineInfo(): Record<string, unknown> {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryMb: Math.round(totalmem() / 2 ** 20), loadavg: loadavg(), node: process.version };
}

/** Writes `<out>/<date>-<benchmark>.json`; returns the path. */
export async function writeResult(out: string, benchmark: string, result: Record<string, unknown>): Promise<string> {
  await mkdir(out, { recursive: true });
  const file = join(out, `${dateStamp()}-${benchmark}.json`);
  await writeFile(file, `${JSON.stringify({ benchmark, date: new Date().toISOString(), machine: machineInfo(), ...result }, null, 2)}\n`);
  return file;
}

export function progressFor(benchmark: string): (message: string) => void {
  return (message) => process.stderr.write(`[${benchmark}] ${message}\n`);
}

export function positiveInt(flag: string, value: string): number {
  // `10_000` reads better on a command line than 10000.
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${value}`);
  return n;
}

/**
 * `--flag value` pairs into a map, checked against the known flags; `--help` prints usage.
 * Each benchmark turns the strings into its own options.
 */
export function parseFlags(argv: readonly string[], known: readonly string[], usage: string): Map<string, string> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? '';
    const value = argv[i + 1];
    if (!known.includes(flag)) throw new Error(`unknown option ${flag}\n${usage}`);
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    flags.set(flag, value);
  }
  return flags;
}

/** `flag`'s positive integer from `parseFlags`'s map, or `fallback` when not given. */
export function intFlag(flags: ReadonlyMap<string, string>, flag: string, fallback: number): number {
  const value = flags.get(flag);
  return value === undefined ? fallback : positiveInt(flag, value);
}

/** A comma-separated choice among `all` (every one when the flag is not given); `what` names them in errors. */
export function choiceListFlag<T extends string>(flags: ReadonlyMap<string, string>, flag: string, all: readonly T[], what: string): T[] {
  const names = (flags.get(flag) ?? all.join(',')).split(',');
  for (const name of names) if (!(all as readonly string[]).includes(name)) throw new Error(`unknown ${what} ${name}; one of ${all.join(', ')}`);
  return names as T[];
}

/** Runs `task(0..count-1)` with at most `width` in flight. */
export async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Registers `count` users through the shared-secret admin API, `width` at a time. */
export async function registerMany(http: MatrixHttp, sharedSecret: string, prefix: string, count: number, width = 8): Promise<Session[]> {
  const password = randomBytes(12).toString('hex');
  return inParallel(count, width, (i) => http.registerWithSharedSecret(sharedSecret, `${prefix}${i}`, password));
}

/** A tag that keeps one run's user names apart from another's on the same server. */
export function runTag(): string {
  return randomBytes(3).toString('hex');
}

const interruptStops = new Set<() => Promise<unknown>>();
let interruptHandled = false;

/**
 * Stops `stop` (servers, databases) when the benchmark is interrupted (Ctrl-C, SIGTERM):
 * the Synapse peers and throwaway databases would otherwise outlive it. Returns the
 * function that forgets `stop` once it ran the ordinary way.
 */
export function stopOnInterrupt(stop: () => Promise<unknown>): () => void {
  if (!interruptHandled) {
    interruptHandled = true;
    const handler = (signal: NodeJS.Signals): void => {
      process.stderr.write(`${signal}: stopping the servers this benchmark started\n`);
      void Promise.allSettled([...interruptStops].map((each) => each())).then(() => process.exit(130));
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  }
  interruptStops.add(stop);
  return () => interruptStops.delete(stop);
}
