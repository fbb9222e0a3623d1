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
export {
  EventsRepository,
  type Direction,
  type EventRangeQuery,
  type EventTransaction,
  type ExtremityRow,
  type NewEvent,
  type StoredEvent,
} from './events-repository.ts';
export {
  MAX_STATE_DELTA_CHAIN,
  StateRepository,
  type CurrentStateChange,
  type CurrentStateEntry,
  type NewSnapshot,
  type SnapshotInfo,
  type StateChange,
  type StateEntry,
} from './state-repository.ts';
export { RoomsRepository, type NewRoom, type StoredRoom } from './rooms-repository.ts';
export { RoomStore, ROOM_WRITE_LOCK_NAMESPACE } from './room-store.ts';
export { FiltersRepository } from './filters-repository.ts';
export { SyncRepository, type MembershipChangeRow, type TimelineRow } from './sync-repository.ts';
export { SlidingSyncRepository } from './sliding-sync-repository.ts';
export { AccountsRepository, type NewUser, type RegistrationToken, type StoredUser } from './accounts-repository.ts';
export { DevicesRepository, type NewDevice, type StoredDevice } from './devices-repository.ts';
export { TokensRepository, type NewAccessToken, type StoredAccessToken, type StoredRefreshToken } from './tokens-repository.ts';
export { UiaSessionsRepository, type StoredUiaSession, type UiaSessionData } from './uia-sessions-repository.ts';
