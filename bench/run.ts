// `npm run bench [-- name [options...]]`: runs bench/<name>/run.ts with the options, or
// with no name every benchmark in bench/ one after another (each in its own process, so
// one cannot skew the next through the JIT, the heap or leftover servers) and then
// bench/summary.ts, which combines the day's results into bench/results/<date>.json and .md.
//
// Benchmarks are on demand only: they are not part of `npm test` or CI.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

function available(): string[] {
  return readdirSync(BENCH_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(BENCH_DIR, entry.name, 'run.ts')))
    .map((entry) => entry.name)
    .sort();
}

function runOne(name: string, args: readonly string[], script = join(BENCH_DIR, name, 'run.ts')): Promise<number> {
  return new Promise((resolveCode, reject) => {
    process.stderr.write(`\n== bench/${name}\n`);
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveCode(code ?? (signal === null ? 1 : 128)));
  });
}

/**
 * `--quick`: issue 12's benchmarks at a small size, into bench/results/tmp/quick/, then their
 * summary: checks that the whole suite runs end to end in a few minutes, not a measurement.
 */
const QUICK: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['send-sync', ['--repeats', '1', '--sequential', '50', '--concurrent-ms', '3000', '--delivery-ms', '3000', '--settle-ms', '2000']],
  ['federation', ['--repeats', '1', '--delivery', '30', '--concurrent-ms', '3000', '--members', '300']],
  ['initial-sync', ['--rooms', '20', '--messages', '2', '--repeats', '2']],
  ['db-size', ['--members', '100', '--events', '2000']],
];

async function quick(): Promise<number> {
  // Under results/tmp/, which git ignores: these are not figures to keep.
  const out = join(BENCH_DIR, 'results', 'tmp', 'quick');
  let failed = 0;
  for (const [each, quickArgs] of QUICK) {
    const code = await runOne(each, [...quickArgs, '--out', out]);
    if (code !== 0) failed += 1;
  }
  if ((await runOne('summary.ts', ['--results', out], join(BENCH_DIR, 'summary.ts'))) !== 0) failed += 1;
  return failed === 0 ? 0 : 1;
}

const [name, ...args] = process.argv.slice(2);
const names = available();
if (name === '--help' || name === '-h') {
  process.stdout.write(`usage: node bench/run.ts [name [options...]]\nbenchmarks: ${names.join(', ')}\nsummary: node bench/run.ts summary [--date YYYY-MM-DD] (also after every full run)\nquick: node bench/run.ts --quick (issue 12's benchmarks, small, into bench/results/tmp/quick/)\n`);
  process.exit(0);
}
if (name === 'summary') process.exit(await runOne('summary.ts', args, join(BENCH_DIR, 'summary.ts')));
if (name === '--quick') process.exit(await quick());
if (name !== undefined && !names.includes(name)) {
  process.stderr.write(`unknown benchmark "${name}"; available: ${names.join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const each of name === undefined ? names : [name]) {
  const code = await runOne(each, name === undefined ? [] : args);
  if (code !== 0) {
    process.stderr.write(`bench/${each} exited with ${code}\n`);
    failed += 1;
  }
}
if (name === undefined) {
  // Whatever failed, the summary shows what did run (and names what did not).
  const code = await runOne('summary.ts', [], join(BENCH_DIR, 'summary.ts'));
  if (code !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
