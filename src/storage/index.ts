// The storage layer's public API. Other layers import from here, never kysely directly.

export { openDatabase, type OpenDatabaseOptions, type StoaDatabase, type StorageLogger } from './database.ts';
export { DirectoryLockedError } from './directory-lock.ts';
export {
  migrateToLatest,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type MigrationOutcome,
  type MigrationReport,
  type MigrationStatus,
} from './migrate.ts';
export { ServerKeysRepository, type StoredServerKey } from './server-keys-repository.ts';
