// Test rig: one suite, run on every engine. PGlite always (in a temporary directory);
// PostgreSQL too when STOA_TEST_POSTGRES_URL names a server whose role may create databases
// (e.g. postgres://postgres@127.0.0.1:5432/postgres). Each suite gets a fresh database,
// migrated to the latest schema unless asked not to, and removes it afterwards.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import type { DatabaseConfig } from '../config/types.ts';
import { openDatabase, type StoaDatabase } from './database.ts';
import { migrateToLatest } from './migrate.ts';

export type EngineName = StoaDatabase['engine'];

export interface DescribeEnginesOptions {
  /** false: hand the suite an empty database (for migration tests). Default true. */
  readonly migrate?: boolean;
  /** Limit the suite to these engines (for behaviour only one engine has). Default: all. */
  readonly engines?: readonly EngineName[];
}

/** The engines this run covers: PGlite, plus PostgreSQL when STOA_TEST_POSTGRES_URL is set. */
export function testEngines(): EngineName[] {
  return postgresAdminUrl() === undefined ? ['pglite'] : ['pglite', 'postgres'];
}

/**
 * Registers `describe("<name> [<engine>]")` for each engine. `body` registers the tests and
 * receives `getDb`, valid inside tests (the database opens in the suite's `before` hook).
 */
export function describeEngines(
  name: string,
  body: (getDb: () => StoaDatabase, engine: EngineName) => void,
  options: DescribeEnginesOptions = {},
): void {
  for (const engine of testEngines()) {
    if (options.engines !== undefined && !options.engines.includes(engine)) continue;
    describe(`${name} [${engine}]`, () => {
      let handle: TestDatabase | undefined;
      before(async () => {
        handle = await createTestDatabase(engine);
        if (options.migrate !== false) {
          const report = await migrateToLatest(handle.db);
          if (report.error !== undefined) throw report.error;
        }
      });
      after(async () => {
        await handle?.dispose();
      });
      body(() => {
        if (handle === undefined) throw new Error('the test database is opened in before(); use getDb() inside tests');
        return handle.db;
      }, engine);
    });
  }
}

export interface TestDatabase {
  readonly db: StoaDatabase;
  /** Closes the database and deletes it (directory or PostgreSQL database). */
  dispose(): Promise<void>;
}

/** A fresh, empty database on `engine`, for tests that need more than one per suite. */
export async function createTestDatabase(engine: EngineName): Promise<TestDatabase> {
  return engine === 'pglite' ? createPGliteDatabase() : createPostgresDatabase();
}

function postgresAdminUrl(): string | undefined {
  const url = process.env['STOA_TEST_POSTGRES_URL'];
  return url === undefined || url === '' ? undefined : url;
}

async function createPGliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'stoa-test-'));
  const config: DatabaseConfig = { engine: 'pglite', path: join(dir, 'db') };
  try {
    const db = await openDatabase(config);
    return {
      db,
      async dispose() {
        try {
          await db.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const adminUrl = postgresAdminUrl();
  if (adminUrl === undefined) throw new Error('STOA_TEST_POSTGRES_URL is not set');
  // Random lower-case hex: a valid unquoted identifier, so it needs no escaping.
  const name = `stoa_t_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    const db = await openDatabase({ engine: 'postgres', url: url.toString() });
    return {
      db,
      async dispose() {
        try {
          await db.close();
        } finally {
          await withAdminClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
        }
      },
    };
  } catch (error) {
    await withAdminClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    throw error;
  }
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
