// Opens Stoa's database: embedded PGlite (the default) or a PostgreSQL server. Both run
// kysely's PostgreSQL query compiler, so every statement and migration is the same SQL on
// both engines; only the driver differs.

import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/types.ts';
import type { Database } from '../../schema/database.ts';
import { lockDirectory } from './directory-lock.ts';
import { INT8_ARRAY_OID, INT8_OID, parseInt8, parseInt8Array } from './int8.ts';

export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StoaDatabase {
  readonly kysely: Kysely<Database>;
  readonly engine: 'pglite' | 'postgres';
  /** PostgreSQL's connection pool, for metrics; absent for PGlite (one connection). */
  poolStats?(): PoolStats;
  /** Closes the connections (and for PGlite, the embedded server). Safe to call twice. */
  close(): Promise<void>;
}

export interface PoolStats {
  /** Connections open (idle or checked out). */
  readonly total: number;
  readonly idle: number;
  /** Queries queued for a connection. */
  readonly waiting: number;
}

export interface OpenDatabaseOptions {
  readonly logger?: StorageLogger;
}

export async function openDatabase(config: DatabaseConfig, opts: OpenDatabaseOptions = {}): Promise<StoaDatabase> {
  return config.engine === 'pglite' ? openPGlite(config.path, opts.logger) : openPostgres(config.url, opts.logger);
}

async function openPGlite(path: string, logger: StorageLogger | undefined): Promise<StoaDatabase> {
  await mkdir(path, { recursive: true });
  const lock = await lockDirectory(path);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(path, {
      parsers: { [INT8_OID]: parseInt8, [INT8_ARRAY_OID]: parseInt8Array },
      // PostgreSQL's default 128 MB of shared buffers lives in the WASM heap and stays
      // resident once touched; the data files are still in the OS page cache. About 115 MB
      // less resident memory (bench/README.md, send-sync).
      postgresqlconf: ['shared_buffers = 16MB'],
    });
  } catch (error) {
    await lock.release();
    throw error;
  }
  // PGlite has one connection; kysely's PGlite adapter reports that, and kysely then hands
  // the connection to one transaction or query at a time, so transactions never interleave.
  const kysely = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  logger?.info({ engine: 'pglite', path }, 'database opened');
  return {
    kysely,
    engine: 'pglite',
    close: once(async () => {
      try {
        await kysely.destroy();
      } finally {
        await lock.release();
      }
    }),
  };
}

const CONNECT_TIMEOUT_MS = 10_000;

async function openPostgres(url: string, logger: StorageLogger | undefined): Promise<StoaDatabase> {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, 'text', parseInt8);
  types.setTypeParser(INT8_ARRAY_OID, 'text', parseInt8Array);
  const pool = new pg.Pool({
    connectionString: url,
    types,
    // A server that accepts the TCP connection but never answers (a network partition, a
    // stuck failover) must fail the request, not hold it and a pool slot forever.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client whose server connection drops emits 'error' on the pool; unhandled, that
  // would end the process. The pool replaces the client on next use.
  pool.on('error', (error) => {
    logger?.warn({ engine: 'postgres', err: error }, 'idle database connection failed');
  });
  // A client checked out of the pool has no pool listener: when its connection drops
  // mid-query (the server restarted), pg fails the query AND emits 'error' on the client,
  // which unhandled ends the process. The failed query already reaches the caller; the pool
  // discards the broken client when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      logger?.warn({ engine: 'postgres', err: error }, 'database connection lost');
    });
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Fail at start-up, not on the first request, when the server is unreachable.
    await sql`select 1`.execute(kysely);
  } catch (error) {
    await kysely.destroy();
    throw error;
  }
  logger?.info({ engine: 'postgres', target: describeTarget(url) }, 'database opened');
  return {
    kysely,
    engine: 'postgres',
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: once(() => kysely.destroy()),
  };
}

/** host:port/database of a connection URL, without credentials, for logs. */
function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable url)';
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}
