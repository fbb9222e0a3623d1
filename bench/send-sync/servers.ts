// The servers under test: Stoa through the spec-test rig (its own process, PGlite folder or
// throwaway PostgreSQL database) and the Synapse peer through ../shared/peers/synapse.sh
// (SQLite, or PostgreSQL with a throwaway database as the peers README describes).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findFreePort, REPO_ROOT, startNodes, type ConfigOverrides } from '../../spec-tests/rig/nodes.ts';

const run = promisify(execFile);

export type Product = 'stoa' | 'synapse';
export type Engine = 'pglite' | 'sqlite' | 'postgres';

export interface BenchServer {
  /** e.g. `stoa-pglite`, `synapse-postgres`. */
  readonly label: string;
  readonly product: Product;
  readonly engine: Engine;
  readonly clientUrl: string;
  /** The server process whose resident memory is measured. */
  readonly pid: number;
  readonly registrationSharedSecret: string;
  /** The PostgreSQL database the server writes to (engine `postgres` only). */
  readonly databaseName?: string;
  stop(): Promise<void>;
}

/** `configOverrides`: more config for the node, merged over the rig's and the benchmark's. */
export async function startStoa(engine: 'pglite' | 'postgres', postgresUrl: string | undefined, configOverrides: ConfigOverrides = {}): Promise<BenchServer> {
  if (engine === 'postgres') {
    if (postgresUrl === undefined) throw new Error('stoa-postgres needs --postgres-url or STOA_TEST_POSTGRES_URL');
    // The rig reads the admin URL from the environment.
    process.env['STOA_TEST_POSTGRES_URL'] = postgresUrl;
  }
  // Rate limits off, as the Synapse peer runs them (its config sets every rc_* out of
  // reach): the benchmark measures throughput, not the limiter. Everything else is the
  // rig's ordinary config, including per-request logging at info level as Synapse does.
  const [node] = await startNodes(1, { engine, configOverrides: { rate_limits: { enabled: false }, ...configOverrides } });
  if (node === undefined) throw new Error('the rig started no node');
  const databaseName = stoaDatabaseName(node.config);
  return {
    label: `stoa-${engine}`,
    product: 'stoa',
    engine,
    clientUrl: node.clientUrl,
    pid: node.pid,
    registrationSharedSecret: node.registrationSharedSecret,
    ...(databaseName === undefined ? {} : { databaseName }),
    async stop() {
      await node.stop();
    },
  };
}

/** The database name in a rig node's `database.url`, when it runs on PostgreSQL. */
export function stoaDatabaseName(config: Readonly<Record<string, unknown>>): string | undefined {
  const database = config['database'];
  if (typeof database !== 'object' || database === null) return undefined;
  const url = (database as Record<string, unknown>)['url'];
  if (typeof url !== 'string') return undefined;
  return decodeURIComponent(new URL(url).pathname.slice(1)) || undefined;
}

const SYNAPSE_SCRIPT = resolve(REPO_ROOT, '..', 'shared', 'peers', 'synapse.sh');

function synapseDataDir(): string {
  const explicit = process.env['SYNAPSE_DATA_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const peers = process.env['SYNAPSE_PEERS_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'stoa-peers');
  return join(peers, 'data');
}

/** Runs `../shared/peers/synapse.sh` with `args`; resolves to its stdout. */
export async function synapse(...args: string[]): Promise<string> {
  const { stdout } = await run(SYNAPSE_SCRIPT, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Installs the Synapse peer if it is not installed yet (about a minute the first time). */
export async function ensureSynapseInstalled(): Promise<void> {
  await synapse('install');
}

export interface SynapseStartOptions {
  /** Instance name (its data folder under the peers' data dir); default `bench-send-sync-<engine>`. */
  readonly name?: string;
  /** More top-level YAML for the instance's extra.yaml (merged after the generated config). */
  readonly extraYaml?: string;
  /**
   * Files to put in the instance's folder before start (name → text); Synapse sees that
   * folder as `/data/<instance name>/` (e.g. for `app_service_config_files`).
   */
  readonly files?: Readonly<Record<string, string>>;
}

export async function startSynapse(engine: 'sqlite' | 'postgres', postgresUrl: string | undefined, options: SynapseStartOptions = {}): Promise<BenchServer & { readonly serverName: string; readonly federationUrl: string }> {
  const name = options.name ?? `bench-send-sync-${engine}`;
  // A fresh instance every run: no rooms or users left from an earlier one.
  await synapse('reset', name);
  let database: { name: string; drop(): Promise<void> } | undefined;
  let extra = options.extraYaml ?? '';
  if (engine === 'postgres') {
    if (postgresUrl === undefined) throw new Error('synapse-postgres needs --postgres-url or STOA_TEST_POSTGRES_URL');
    const created = await createSynapseDatabase(postgresUrl);
    database = created;
    const { hostname, port } = new URL(postgresUrl);
    extra += `database: { name: psycopg2, args: { user: synapse, password: synapse, dbname: ${created.name}, host: ${hostname}, port: ${port || 5432}, cp_min: 5, cp_max: 10 } }\n`;
  }
  if (extra !== '' || options.files !== undefined) {
    const dir = join(synapseDataDir(), name);
    await mkdir(dir, { recursive: true });
    if (extra !== '') await writeFile(join(dir, 'extra.yaml'), extra);
    for (const [file, text] of Object.entries(options.files ?? {})) await writeFile(join(dir, file), text);
  }
  const federationPort = await findFreePort();
  const clientPort = await findFreePort();
  try {
    await synapse('start', name, String(federationPort), String(clientPort));
  } catch (error) {
    // A start that failed half-way may have left a process or a folder behind.
    await synapse('reset', name).catch(() => undefined);
    await database?.drop();
    throw error;
  }
  const info = JSON.parse(await synapse('info', name)) as { server_name: string; federation_url: string; client_url: string; pid: number | null; registration_shared_secret: string };
  if (info.pid === null) {
    await synapse('reset', name).catch(() => undefined);
    await database?.drop();
    throw new Error(`synapse instance ${name} is not running after start`);
  }
  return {
    label: `synapse-${engine}`,
    product: 'synapse',
    engine,
    clientUrl: info.client_url,
    serverName: info.server_name,
    federationUrl: info.federation_url,
    pid: info.pid,
    registrationSharedSecret: info.registration_shared_secret,
    ...(database === undefined ? {} : { databaseName: database.name }),
    async stop() {
      await synapse('reset', name);
      await database?.drop();
    },
  };
}

/** A database owned by a `synapse` role, with the C collation Synapse insists on. */
async function createSynapseDatabase(adminUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `synapse_bench_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, async (client) => {
    await client.query(`do $$ begin create role synapse login password 'synapse'; exception when duplicate_object then null; end $$`);
    await client.query(`create database ${name} encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0 owner synapse`);
  });
  return {
    name,
    drop: () => withClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Resident and peak resident memory of a process, in MB (from /proc/<pid>/status). */
export async function memoryOf(pid: number): Promise<{ rssMb: number; peakRssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (match?.[1] === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number.parseInt(match[1], 10);
  };
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}
