// `npm run bench [-- name [options...]]`: runs bench/<name>/run.ts with the options, or
// with no name every benchmark in bench/ one after another (each in its own process, so
// one cannot skew the next through the JIT, the heap or leftover servers).
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

function runOne(name: string, args: readonly string[]): Promise<number> {
  return new Promise((resolveCode, reject) => {
    process.stderr.write(`\n== bench/${name}\n`);
    const child = spawn(process.execPath, [join(BENCH_DIR, name, 'run.ts'), ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveCode(code ?? (signal === null ? 1 : 128)));
  });
}

const [name, ...args] = process.argv.slice(2);
const names = available();
if (name === '--help' || name === '-h') {
  process.stdout.write(`usage: node bench/run.ts [name [options...]]\nbenchmarks: ${names.join(', ')}\n`);
  process.exit(0);
}
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
process.exit(failed === 0 ? 0 : 1);
