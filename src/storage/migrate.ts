// Brings the schema up to date. Each migration runs in its own transaction (PostgreSQL and
// PGlite both have transactional DDL): a migration that fails leaves no trace, the ones
// before it stay applied, and the ones after it are not attempted. The outcome is a report,
// not an exception thrown half-way, so `stoa migrate` can say exactly what happened.
//
// kysely's Migrator does the bookkeeping (its table, ordering checks, a PostgreSQL advisory
// lock so concurrent starters take turns). Its migrateToLatest() would wrap *all* pending
// migrations in a single transaction and then report the ones before a failure as
// "Success" although they were rolled back; stepping with migrateUp() gives one transaction
// per migration and a report that matches the database.

import { Migrator, type Migration, type MigrationResult } from 'kysely/migration';
import { migrations as allMigrations } from '../../schema/migrations/index.ts';
import type { StoaDatabase } from './database.ts';

export type MigrationStatus = 'applied' | 'failed' | 'not-run';

export interface MigrationOutcome {
  readonly name: string;
  readonly status: MigrationStatus;
}

export interface MigrationReport {
  /** Pending migrations, in order, with what became of each. Empty when already up to date. */
  readonly results: readonly MigrationOutcome[];
  /** Why the run stopped; undefined when every pending migration applied. */
  readonly error: Error | undefined;
}

/** Names of the migrations kysely records, in their own table. */
export const MIGRATION_TABLE = 'stoa_migration';
export const MIGRATION_LOCK_TABLE = 'stoa_migration_lock';

export async function migrateToLatest(
  db: StoaDatabase,
  migrations: Readonly<Record<string, Migration>> = allMigrations,
): Promise<MigrationReport> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => ({ ...migrations }) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });

  const results: MigrationOutcome[] = [];
  for (;;) {
    const step = await migrator.migrateUp();
    const outcome = step.results?.[0];
    if (step.error !== undefined) {
      if (outcome !== undefined) results.push({ name: outcome.migrationName, status: 'failed' });
      for (const name of await pendingNames(migrator, results)) results.push({ name, status: 'not-run' });
      return { results, error: asError(step.error) };
    }
    if (outcome === undefined) return { results, error: undefined };
    results.push({ name: outcome.migrationName, status: statusOf(outcome) });
  }
}

function statusOf(result: MigrationResult): MigrationStatus {
  switch (result.status) {
    case 'Success':
      return 'applied';
    case 'Error':
      return 'failed';
    case 'NotExecuted':
      return 'not-run';
  }
}

/** Pending migrations not yet mentioned in the report; best effort, the run already failed. */
async function pendingNames(migrator: Migrator, reported: readonly MigrationOutcome[]): Promise<string[]> {
  try {
    const known = new Set(reported.map((r) => r.name));
    return (await migrator.getMigrations())
      .filter((m) => m.executedAt === undefined && !known.has(m.name))
      .map((m) => m.name);
  } catch {
    return [];
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
