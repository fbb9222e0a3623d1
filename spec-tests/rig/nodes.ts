// Real Stoa nodes for black-box tests: each one is `node src/cli/main.ts start --config F`
// in its own process, with its own temporary folder (config, signing key, PGlite database,
// media) or its own throwaway PostgreSQL database, on free loopback ports.
//
// Ports: the server name must carry the federation port (`127.0.0.1:<port>`) and be in the
// config before the process starts, so the rig picks the ports itself (bind port 0 on
// 127.0.0.1, read the port, close) and writes them into the config. Another process can
// take such a port between our close and Stoa's bind; the rig then sees the node exit
// before its "listening" log line with EADDRINUSE and retries on fresh ports.
//
// Tests must stop what they start: `after(() => stopNodes(nodes))`. A node left running
// when the test process exits is killed by an exit hook, but its files stay behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify as stringifyYaml } from 'yaml';
import { testCertificateAuthority, type TestCertificateAuthority } from './tls.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI_ENTRY = join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** Plain YAML values for configOverrides (merged key by key into the rig's config). */
export type ConfigValue = string | number | boolean | null | readonly ConfigValue[] | { readonly [key: string]: ConfigValue };
export type ConfigOverrides = { readonly [key: string]: ConfigValue };

export interface StartNodesOptions {
  /** Serve federation over TLS with a certificate for 127.0.0.1 from a per-run test CA. */
  readonly tls?: boolean;
  /** 'postgres' needs STOA_TEST_POSTGRES_URL; default 'pglite'. */
  readonly engine?: 'pglite' | 'postgres';
  /** Deep-merged into each node's config (objects merge, anything else replaces). */
  readonly configOverrides?: ConfigOverrides;
  /** How long to wait for the "listening" line. Default 60 s. */
  readonly startTimeoutMs?: number;
}

export interface NodeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface TestNode {
  /** `127.0.0.1:<federation port>`. */
  readonly serverName: string;
  /** `http://127.0.0.1:<client port>` (no trailing slash). */
  readonly clientUrl: string;
  /** `http(s)://127.0.0.1:<federation port>`. */
  readonly federationUrl: string;
  /** `http://127.0.0.1:<metrics port>`. */
  readonly metricsUrl: string;
  readonly dataDir: string;
  readonly configPath: string;
  /** The config as written (after overrides). */
  readonly config: ConfigOverrides;
  /** The shared secret for the shared-secret registration admin API. */
  readonly registrationSharedSecret: string;
  /** PEM of the CA that issued the federation certificate (trust it to call federationUrl). */
  readonly caCertificate: string | undefined;
  readonly pid: number;
  /** Everything the process wrote so far, stdout and stderr, in order. */
  logs(): string;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<NodeExit>;
  /** SIGTERM, wait for exit (SIGKILL after 20 s), remove the folder, drop the database. Idempotent. */
  stop(): Promise<NodeExit>;
  /**
   * Stops the process but keeps its folder and database (a node that went down: a
   * partition, a crash). `restart()` brings it back. `pid`, `exited` and `logs()` follow
   * the current process; `logs()` keeps what earlier ones wrote.
   */
  halt(): Promise<NodeExit>;
  /** Starts the node again on the same config, ports and data (halting it first if it runs). */
  restart(): Promise<void>;
}

/** Starts `n` nodes in parallel; on any failure stops those that started and throws. */
export async function startNodes(n: number, options: StartNodesOptions = {}): Promise<TestNode[]> {
  const ca = options.tls === true ? await testCertificateAuthority() : undefined;
  const results = await Promise.allSettled(Array.from({ length: n }, () => startNodeWithRetry(options, ca)));
  const nodes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined) {
    await stopNodes(nodes);
    throw failure.reason;
  }
  return nodes;
}

export async function stopNodes(nodes: readonly TestNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.stop()));
}

// ---------------------------------------------------------------------------------------

const START_ATTEMPTS = 3;

class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

async function startNodeWithRetry(options: StartNodesOptions, ca: TestCertificateAuthority | undefined): Promise<TestNode> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNode(options, ca);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port assigned'));
        else resolvePort(address.port);
      });
    });
  });
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await findFreePort());
  return [...ports];
}

async function startNode(options: StartNodesOptions, ca: TestCertificateAuthority | undefined): Promise<TestNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stoa-node-'));
  let database: ThrowawayDatabase | undefined;
  const cleanup = async (): Promise<void> => {
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  try {
    const [clientPort, federationPort, metricsPort] = await distinctFreePorts(3);
    if (clientPort === undefined || federationPort === undefined || metricsPort === undefined) throw new Error('unreachable');
    const serverName = `127.0.0.1:${federationPort}`;
    const registrationSharedSecret = randomBytes(24).toString('hex');

    let federationTls: ConfigOverrides = {};
    let caPath: string | undefined;
    if (ca !== undefined) {
      const leaf = await ca.issue('127.0.0.1');
      const certPath = join(dataDir, 'federation.crt');
      const keyPath = join(dataDir, 'federation.key');
      caPath = join(dataDir, 'test-ca.crt');
      await writeFile(certPath, leaf.certificate);
      await writeFile(keyPath, leaf.privateKey, { mode: 0o600 });
      await writeFile(caPath, ca.certificate);
      federationTls = { tls_certificate_path: certPath, tls_private_key_path: keyPath };
    }

    if ((options.engine ?? 'pglite') === 'postgres') database = await createThrowawayDatabase();

    const base: ConfigOverrides = {
      server_name: serverName,
      public_baseurl: `http://127.0.0.1:${clientPort}/`,
      listeners: {
        client: { bind: '127.0.0.1', port: clientPort },
        federation: { bind: '127.0.0.1', port: federationPort, ...federationTls },
      },
      database: database === undefined ? { engine: 'pglite', path: join(dataDir, 'db') } : { engine: 'postgres', url: database.url },
      data_dir: dataDir,
      signing_key_path: join(dataDir, 'signing.key'),
      registration: { enabled: true, shared_secret: registrationSharedSecret, require_token: false },
      federation: {
        enabled: true,
        // Every node of a test network is on loopback.
        allow_private_addresses: true,
        verify_tls: true,
        extra_ca_paths: caPath === undefined ? [] : [caPath],
      },
      media: { store_path: join(dataDir, 'media') },
      // Test push gateways listen on loopback too.
      push: { allow_private_addresses: true },
      // Tests drive nodes far faster than people do; a test about limits turns them on.
      rate_limits: { enabled: false },
      log_level: 'info',
      metrics: { enabled: true, bind: '127.0.0.1', port: metricsPort },
    };
    const config = deepMerge(base, options.configOverrides ?? {});
    const configPath = join(dataDir, 'homeserver.yaml');
    await writeFile(configPath, stringifyYaml(config));

    // Generous: a PGlite node starts in ~6 s on a quiet machine, but CI machines are shared.
    const startTimeoutMs = options.startTimeoutMs ?? 150_000;
    let current = await launch(configPath, startTimeoutMs);
    const { listening } = current;
    const earlierLogs: string[] = [];
    const federationScheme = ca === undefined ? 'http' : 'https';
    let stopped: Promise<NodeExit> | undefined;
    let halted: Promise<NodeExit> | undefined;
    const halt = (): Promise<NodeExit> => (halted ??= terminate(current.proc, current.exited));
    // The ports the node reports, which are the rig's unless configOverrides changed them.
    return {
      serverName: typeof config['server_name'] === 'string' ? config['server_name'] : serverName,
      clientUrl: `http://127.0.0.1:${listening.client_port}`,
      federationUrl: `${federationScheme}://127.0.0.1:${listening.federation_port}`,
      metricsUrl: `http://127.0.0.1:${listening.metrics_port ?? metricsPort}`,
      dataDir,
      configPath,
      config,
      registrationSharedSecret,
      caCertificate: ca?.certificate,
      get pid() {
        return current.proc.pid ?? -1;
      },
      logs: () => [...earlierLogs, current.output.text()].join(''),
      get exited() {
        return current.exited;
      },
      stop: () =>
        (stopped ??= (async () => {
          const exit = await terminate(current.proc, current.exited);
          await cleanup();
          return exit;
        })()),
      halt,
      async restart() {
        if (stopped !== undefined) throw new Error('restart() after stop(): the node folder is gone');
        await halt();
        earlierLogs.push(current.output.text());
        // Same ports: the server name carries the federation port. A port taken meanwhile
        // surfaces as an error here rather than a silent move.
        current = await launch(configPath, startTimeoutMs);
        halted = undefined;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

interface Launched {
  readonly proc: ChildProcess;
  readonly output: CollectedOutput;
  readonly exited: Promise<NodeExit>;
  readonly listening: ListeningLine;
}

/** Spawns `stoa start` on `configPath` and waits for its "listening" line. */
async function launch(configPath: string, timeoutMs: number): Promise<Launched> {
  const proc = spawnStoa(['start', '--config', configPath]);
  const output = collectOutput(proc);
  const exited = exitOf(proc);
  try {
    return { proc, output, exited, listening: await waitForListening(output, exited, timeoutMs) };
  } catch (error) {
    await terminate(proc, exited);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Processes

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** `node src/cli/main.ts ...args` on this test run's Node, in the repo root, without STOA_* variables. */
export function spawnStoa(args: readonly string[], extraEnv: Readonly<Record<string, string>> = {}): ChildProcess {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // The rig decides the node's settings; the developer's STOA_CONFIG or STOA_LOG_LEVEL
    // must not leak in. NODE_TEST_CONTEXT would make a child behave as a test subprocess.
    if (value !== undefined && !key.startsWith('STOA_') && key !== 'NODE_TEST_CONTEXT') env[key] = value;
  }
  const proc = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of running) child.kill('SIGKILL');
    });
  }
  return proc;
}

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Stoa CLI command to completion (killed after `timeoutMs`). */
export async function runStoaCommand(args: readonly string[], options: { env?: Readonly<Record<string, string>>; timeoutMs?: number } = {}): Promise<CommandResult> {
  const proc = spawnStoa(args, options.env ?? {});
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  proc.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  proc.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exit = await exitOf(proc);
  clearTimeout(timer);
  return { ...exit, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

function exitOf(proc: ChildProcess): Promise<NodeExit> {
  return new Promise((resolveExit, reject) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolveExit({ code: proc.exitCode, signal: proc.signalCode });
      return;
    }
    proc.once('error', reject);
    // 'close', not 'exit': by then stdout and stderr are fully read.
    proc.once('close', (code, signal) => resolveExit({ code, signal }));
  });
}

async function terminate(proc: ChildProcess, exited: Promise<NodeExit>): Promise<NodeExit> {
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killLater = new Promise<void>((resolveKill) => {
    timer = setTimeout(() => {
      proc.kill('SIGKILL');
      resolveKill();
    }, 20_000);
  });
  await Promise.race([exited, killLater]);
  clearTimeout(timer);
  return exited;
}

interface CollectedOutput {
  text(): string;
  /** Called with each complete stdout line, including those already seen. */
  onStdoutLine(listener: (line: string) => void): void;
}

function collectOutput(proc: ChildProcess): CollectedOutput {
  const chunks: string[] = [];
  const lines: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  let partial = '';
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    chunks.push(chunk);
    partial += chunk;
    let newline: number;
    while ((newline = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      lines.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  proc.stderr?.on('data', (chunk: string) => chunks.push(chunk));
  return {
    text: () => chunks.join(''),
    onStdoutLine(listener) {
      for (const line of lines) listener(line);
      listeners.push(listener);
    },
  };
}

interface ListeningLine {
  readonly client_port: number;
  readonly federation_port: number;
  readonly metrics_port: number | null;
}

function parseListening(line: string): ListeningLine | undefined {
  if (!line.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (record['msg'] !== 'listening' || typeof record['client_port'] !== 'number' || typeof record['federation_port'] !== 'number') return undefined;
  const metrics = record['metrics_port'];
  return { client_port: record['client_port'], federation_port: record['federation_port'], metrics_port: typeof metrics === 'number' ? metrics : null };
}

function waitForListening(output: CollectedOutput, exited: Promise<NodeExit>, timeoutMs: number): Promise<ListeningLine> {
  return new Promise((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not log "listening" within ${timeoutMs} ms:\n${output.text()}`)), timeoutMs);
    output.onStdoutLine((line) => {
      const listening = parseListening(line);
      if (listening !== undefined) {
        clearTimeout(timer);
        resolveLine(listening);
      }
    });
    exited.then(
      (exit) => {
        clearTimeout(timer);
        const text = output.text();
        const message = `node exited (code ${exit.code}, signal ${exit.signal}) before listening:\n${text}`;
        reject(text.includes('EADDRINUSE') ? new PortInUseError(message) : new Error(message));
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

// ---------------------------------------------------------------------------------------
// Config and databases

function isPlainObject(value: unknown): value is { readonly [key: string]: ConfigValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with `overrides` merged in: nested objects merge, anything else replaces. */
export function deepMerge(base: ConfigOverrides, overrides: ConfigOverrides): ConfigOverrides {
  const result: { [key: string]: ConfigValue } = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

interface ThrowawayDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** The PostgreSQL server tests may use (STOA_TEST_POSTGRES_URL), or undefined. */
export function testPostgresUrl(): string | undefined {
  const url = process.env['STOA_TEST_POSTGRES_URL'];
  return url === undefined || url === '' ? undefined : url;
}

async function createThrowawayDatabase(): Promise<ThrowawayDatabase> {
  const adminUrl = testPostgresUrl();
  if (adminUrl === undefined) throw new Error("engine 'postgres' needs STOA_TEST_POSTGRES_URL");
  // Lower-case hex: a valid unquoted identifier, nothing to escape.
  const name = `stoa_node_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdminClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface SiblingProcess {
  /** `http://127.0.0.1:<client port>` of this process. */
  readonly clientUrl: string;
  readonly metricsUrl: string;
  readonly pid: number;
  logs(): string;
  /** SIGTERM and wait for exit; removes its folder (the database stays the node's). Idempotent. */
  stop(): Promise<NodeExit>;
}

/**
 * Starts another Stoa process of `node`'s homeserver (DESIGN.md "Scale"): the same server
 * name, signing key, database and media store, its own ports and folder, with
 * `configOverrides` (e.g. `{ cluster: { role: 'client' } }`) merged in.
 */
export async function startSibling(node: TestNode, configOverrides: ConfigOverrides = {}): Promise<SiblingProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stoa-sibling-'));
  try {
    const [clientPort, federationPort, metricsPort] = await distinctFreePorts(3);
    if (clientPort === undefined || federationPort === undefined || metricsPort === undefined) throw new Error('unreachable');
    const listeners = node.config['listeners'] as { readonly federation: { readonly [key: string]: ConfigValue } };
    const config = deepMerge(
      deepMerge(node.config, {
        listeners: {
          client: { bind: '127.0.0.1', port: clientPort },
          federation: { ...listeners.federation, port: federationPort },
        },
        data_dir: dataDir,
        metrics: { enabled: true, bind: '127.0.0.1', port: metricsPort },
      }),
      configOverrides,
    );
    const configPath = join(dataDir, 'homeserver.yaml');
    await writeFile(configPath, stringifyYaml(config));
    const launched = await launch(configPath, 150_000);
    let stopped: Promise<NodeExit> | undefined;
    return {
      clientUrl: `http://127.0.0.1:${launched.listening.client_port}`,
      metricsUrl: `http://127.0.0.1:${launched.listening.metrics_port ?? metricsPort}`,
      pid: launched.proc.pid ?? -1,
      logs: () => launched.output.text(),
      stop: () =>
        (stopped ??= (async () => {
          const exit = await terminate(launched.proc, launched.exited);
          await rm(dataDir, { recursive: true, force: true });
          return exit;
        })()),
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
