// The `stoa` command as an operator runs it: a real child process, its exit status and output.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readRawEnvironment } from '../config/env.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The parent's environment without Stoa's own variables, plus `extra`. */
function childEnvironment(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(readRawEnvironment())) {
    if (value !== undefined && !name.startsWith('STOA_')) env[name] = value;
  }
  return { ...env, ...extra };
}

function launch(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd,
    env: childEnvironment(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function run(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<Finished> {
  const child = launch(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function nonEmptyLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stoa-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stoa: broken configuration stops with one line and exit status 2', () => {
  test('start --config broken.yaml', async () => {
    const file = path.join(dir, 'broken.yaml');
    await writeFile(file, 'server_name: example.org\nlisteners:\n  client:\n    port: 99999\n');
    const result = await run(['start', '--config', file], { cwd: dir });
    assert.equal(result.code, 2);
    assert.deepEqual(nonEmptyLines(result.stderr), [`config error: ${file}: listeners.client.port: must be <= 65535`]);
    assert.equal(result.stdout, '');
  });

  test('STOA_CONFIG names the file when --config is absent', async () => {
    const file = path.join(dir, 'typo.yaml');
    await writeFile(file, 'server_name: example.org\nregistraton:\n  enabled: true\n');
    const result = await run(['start'], { cwd: dir, env: { STOA_CONFIG: file } });
    assert.equal(result.code, 2);
    assert.deepEqual(nonEmptyLines(result.stderr), [`config error: ${file}: registraton: unknown key (did you mean registration?)`]);
  });

  test('--config wins over STOA_CONFIG', async () => {
    const good = path.join(dir, 'typo.yaml');
    const bad = path.join(dir, 'bad-name.yaml');
    await writeFile(bad, 'server_name: "not a name"\n');
    const result = await run(['start', '--config', bad], { cwd: dir, env: { STOA_CONFIG: good } });
    assert.equal(result.code, 2);
    assert.equal(nonEmptyLines(result.stderr).length, 1);
    assert.match(result.stderr, /^config error: .*bad-name\.yaml: server_name: "not a name" is not a valid server name/);
  });

  test('a named config file that does not exist is an error, not a first start', async () => {
    const cwd = await mkdtemp(path.join(dir, 'missing-'));
    const result = await run(['start', '--config', 'nope.yaml'], { cwd });
    assert.equal(result.code, 2);
    assert.deepEqual(nonEmptyLines(result.stderr), ['config error: nope.yaml: cannot read the file (file not found)']);
    assert.equal(await exists(path.join(cwd, 'data')), false);
  });

  test('a bad STOA_LOG_LEVEL', async () => {
    const result = await run(['start'], { cwd: dir, env: { STOA_LOG_LEVEL: 'loud' } });
    assert.equal(result.code, 2);
    assert.deepEqual(nonEmptyLines(result.stderr), ['config error: STOA_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal']);
  });
});

describe('stoa: command line', () => {
  test('an unknown command prints the usage and exits 2', async () => {
    const result = await run(['serve'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^stoa: unknown command "serve"\nUsage: stoa <command>/);
  });

  test('help prints the usage on stdout and exits 0', async () => {
    const result = await run(['help'], { cwd: dir });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: stoa <command>/);
    assert.equal(result.stderr, '');
  });
});

describe('stoa generate-keys', () => {
  test('writes a key file (0600) once and refuses to overwrite it', async () => {
    const key = path.join(dir, 'keys', 'signing.key');
    const first = await run(['generate-keys', '--output', key], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^wrote a new signing key ed25519:\w+ \(public key [A-Za-z0-9+/]{43}\) to /);
    // Synapse's key-file format: `ed25519 <version> <unpadded base64 seed>`.
    const content = await readFile(key, 'utf8');
    assert.match(content, /^ed25519 \w+ [A-Za-z0-9+/]{43}\n$/);
    assert.equal((await stat(key)).mode & 0o777, 0o600);

    const second = await run(['generate-keys', '--output', key], { cwd: dir });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already exists .*not overwritten/);
    assert.equal(await readFile(key, 'utf8'), content);
  });

  test('--config writes to the signing_key_path of the config', async () => {
    const folder = await mkdtemp(path.join(dir, 'gk-'));
    const file = path.join(folder, 'homeserver.yaml');
    await writeFile(file, 'server_name: example.org\nsigning_key_path: my.key\n');
    const result = await run(['generate-keys', '--config', file], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await exists(path.join(folder, 'my.key')));
  });
});

describe('stoa migrate', () => {
  test('applies the migrations to a fresh embedded database, then has nothing to do', async () => {
    const folder = await mkdtemp(path.join(dir, 'migrate-'));
    const file = path.join(folder, 'homeserver.yaml');
    await writeFile(file, 'server_name: example.org\nlog_level: warn\n');
    const first = await run(['migrate', '--config', file], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^applied\t0001_initial$/m);
    const second = await run(['migrate', '--config', file], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /the database schema is up to date/);
  });
});

describe('stoa backup and restore (embedded database)', () => {
  test('a backup restores into an empty database path that migrate then finds up to date', async () => {
    const folder = await mkdtemp(path.join(dir, 'backup-'));
    const file = path.join(folder, 'homeserver.yaml');
    await writeFile(file, `server_name: example.org\nlog_level: warn\ndatabase:\n  engine: pglite\n  path: ${path.join(folder, 'db')}\n`);
    assert.equal((await run(['migrate', '--config', file], { cwd: dir })).code, 0);
    const archive = path.join(folder, 'stoa.tar.gz');
    const backup = await run(['backup', '--config', file, '--out', archive], { cwd: dir });
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(await exists(archive));

    const occupied = await run(['restore', '--config', file, '--from', archive], { cwd: dir });
    assert.equal(occupied.code, 1);
    assert.match(occupied.stderr, /is not empty/);

    const restoredFile = path.join(folder, 'restored.yaml');
    await writeFile(restoredFile, `server_name: example.org\nlog_level: warn\ndatabase:\n  engine: pglite\n  path: ${path.join(folder, 'db2')}\n`);
    const restore = await run(['restore', '--config', restoredFile, '--from', archive], { cwd: dir });
    assert.equal(restore.code, 0, restore.stderr);
    const migrate = await run(['migrate', '--config', restoredFile], { cwd: dir });
    assert.match(migrate.stdout, /the database schema is up to date/);
  });

  test('backup without --out is a usage error', async () => {
    const result = await run(['backup'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--out FILE is required/);
  });
});

/** Collects a running server's JSON log lines and resolves when one matches. */
function watchLog(child: ChildProcess): { lines: Record<string, unknown>[]; waitFor(msg: string): Promise<Record<string, unknown>> } {
  const lines: Record<string, unknown>[] = [];
  const waiters: Array<{ msg: string; resolve: (line: Record<string, unknown>) => void; reject: (error: Error) => void }> = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.msg === line['msg'])) waiter.resolve(line);
    }
  });
  child.on('close', (code) => {
    for (const waiter of waiters) waiter.reject(new Error(`exited (${String(code)}) before logging "${waiter.msg}"`));
  });
  return {
    lines,
    waitFor: (msg) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => l['msg'] === msg);
        if (seen !== undefined) resolve(seen);
        else waiters.push({ msg, resolve, reject });
      }),
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('close', (code) => resolve(code));
  });
}

describe('stoa start', () => {
  test('logs the bound ports in one "listening" line, serves, and exits 0 on SIGTERM', async () => {
    const folder = await mkdtemp(path.join(dir, 'start-'));
    const file = path.join(folder, 'homeserver.yaml');
    await writeFile(
      file,
      'server_name: example.org\nlisteners:\n  client: {port: 0}\n  federation: {port: 0}\nmetrics: {enabled: true, port: 0}\n',
    );
    const child = launch(['start', '--config', file], { cwd: dir });
    const log = watchLog(child);
    try {
      const listening = await log.waitFor('listening');
      for (const field of ['client_port', 'federation_port', 'metrics_port']) {
        assert.equal(typeof listening[field], 'number', field);
        assert.notEqual(listening[field], 0, field);
      }
      const keyLine = log.lines.find((l) => typeof l['signing_key_path'] === 'string');
      assert.equal(keyLine?.['signing_key_path'], path.join(folder, 'signing.key'));

      const response = await fetch(`http://127.0.0.1:${String(listening['client_port'])}/health`);
      assert.equal(response.status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exitOf(child), 0);
    assert.ok(log.lines.some((l) => l['msg'] === 'stopped'));
  });

  test('first start with no config writes ./data/homeserver.yaml and a signing key, and logs both paths', async () => {
    const cwd = await mkdtemp(path.join(dir, 'first-'));
    const child = launch(['start'], { cwd });
    const log = watchLog(child);
    try {
      // The generated config listens on the fixed ports 8008/8448; another process may hold
      // them, so only the files and the log lines before listening are asserted.
      const generated = await log.waitFor('first start: generated a configuration; edit it (see homeserver.example.yaml) and restart');
      assert.equal(generated['config_path'], path.join(cwd, 'data', 'homeserver.yaml'));
      const key = await log.waitFor('first start: generated a new signing key; keep this file safe and backed up');
      assert.equal(key['signing_key_path'], path.join(cwd, 'data', 'signing.key'));
      assert.ok(await exists(path.join(cwd, 'data', 'homeserver.yaml')));
      assert.ok(await exists(path.join(cwd, 'data', 'signing.key')));
      assert.ok(await exists(path.join(cwd, 'data', 'db')));
    } finally {
      child.kill('SIGTERM');
      await exitOf(child);
    }
  });
});
