// The initial schema (DESIGN.md "Data model"). Written against Kysely<any>: a migration
// describes the schema as it was at its own point in history, not today's Database type.
//
// Conventions: every timestamp is `bigint` milliseconds since the epoch (`*_ts`); event JSON
// and other peer- or client-supplied JSON is `text`, stored exactly as received, because
// jsonb re-orders keys and re-formats numbers and hashes/signatures cover the original.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  // --- The room DAG -------------------------------------------------------------------------

  await db.schema
    .createTable('state_snapshots')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'bigint', (c) => c.references('state_snapshots.id'))
    .addColumn('chain_length', 'integer', (c) => c.notNull().check(sql`chain_length >= 0`))
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    // A full snapshot (no parent) starts a chain; a delta is one longer than its parent.
    .addCheckConstraint('state_snapshots_chain_root', sql`(parent_id is null) = (chain_length = 0)`)
    .execute();
  await db.schema.createIndex('state_snapshots_room_id').on('state_snapshots').column('room_id').execute();
  await db.schema.createIndex('state_snapshots_parent_id').on('state_snapshots').column('parent_id').execute();

  await db.schema
    .createTable('state_snapshot_entries')
    .addColumn('snapshot_id', 'bigint', (c) => c.notNull().references('state_snapshots.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state_key', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addPrimaryKeyConstraint('state_snapshot_entries_pkey', ['snapshot_id', 'type', 'state_key'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('stream_ordering', 'bigint', (c) => c.unique())
    .addColumn('depth', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state_key', 'text')
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('origin_server_ts', 'bigint', (c) => c.notNull())
    .addColumn('json', 'text', (c) => c.notNull())
    .addColumn('room_version', 'text', (c) => c.notNull())
    .addColumn('outlier', 'boolean', (c) => c.notNull())
    .addColumn('rejected_reason', 'text')
    .addColumn('soft_failed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('redacted_by', 'text')
    .addColumn('state_before_snapshot_id', 'bigint', (c) => c.references('state_snapshots.id'))
    .addColumn('received_ts', 'bigint', (c) => c.notNull())
    .execute();
  // Timeline pagination and sync read a room's events in stream order.
  await db.schema
    .createIndex('events_room_stream_ordering')
    .on('events')
    .columns(['room_id', 'stream_ordering'])
    .execute();
  // Backfill walks a room by depth.
  await db.schema.createIndex('events_room_depth').on('events').columns(['room_id', 'depth']).execute();

  await db.schema
    .createTable('event_edges')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('prev_event_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_edges_pkey', ['event_id', 'prev_event_id'])
    .execute();
  // Forward extremity updates and missing-event checks ask "who points at this event?".
  await db.schema.createIndex('event_edges_prev_event_id').on('event_edges').column('prev_event_id').execute();

  await db.schema
    .createTable('event_auth')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('auth_event_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_auth_pkey', ['event_id', 'auth_event_id'])
    .execute();

  await db.schema
    .createTable('current_state')
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state_key', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('membership', 'text')
    .addPrimaryKeyConstraint('current_state_pkey', ['room_id', 'type', 'state_key'])
    .execute();
  // "Which rooms is this user joined to / invited to?" for sync and room lists.
  await db.schema
    .createIndex('current_state_members')
    .on('current_state')
    .columns(['state_key', 'membership'])
    .where(sql.ref('type'), '=', 'm.room.member')
    .execute();

  await db.schema
    .createTable('forward_extremities')
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('forward_extremities_pkey', ['room_id', 'event_id'])
    .execute();

  await db.schema
    .createTable('rooms')
    .addColumn('room_id', 'text', (c) => c.primaryKey())
    .addColumn('room_version', 'text', (c) => c.notNull())
    .addColumn('creator', 'text', (c) => c.notNull())
    .addColumn('is_public', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('rooms_public')
    .on('rooms')
    .column('room_id')
    .where(sql.ref('is_public'), '=', true)
    .execute();

  // --- Local accounts -----------------------------------------------------------------------

  await db.schema
    .createTable('users')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('password_hash', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('is_admin', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_guest', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('deactivated', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_ts', 'bigint')
    .addColumn('last_seen_ip', 'text')
    .addPrimaryKeyConstraint('devices_pkey', ['user_id', 'device_id'])
    .execute();

  await db.schema
    .createTable('access_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint')
    .addColumn('last_used_ts', 'bigint')
    // Deleting a device logs it out.
    .addForeignKeyConstraint('access_tokens_device_fkey', ['user_id', 'device_id'], 'devices', ['user_id', 'device_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('access_tokens_user_device')
    .on('access_tokens')
    .columns(['user_id', 'device_id'])
    .execute();

  await sql`create sequence account_data_stream_seq`.execute(db);
  await db.schema
    .createTable('account_data')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('stream_id', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('account_data_pkey', ['user_id', 'room_id', 'type'])
    .execute();
  // Incremental sync: "what changed for this user since position N?".
  await db.schema
    .createIndex('account_data_user_stream')
    .on('account_data')
    .columns(['user_id', 'stream_id'])
    .execute();

  await db.schema
    .createTable('room_aliases')
    .addColumn('room_alias', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('creator', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('room_aliases_room_id').on('room_aliases').column('room_id').execute();

  // --- Federation ---------------------------------------------------------------------------

  await db.schema
    .createTable('server_keys')
    .addColumn('server_name', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('valid_until_ts', 'bigint')
    .addColumn('expired_ts', 'bigint')
    .addColumn('fetched_ts', 'bigint', (c) => c.notNull())
    .addColumn('key_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_keys_pkey', ['server_name', 'key_id'])
    .execute();

  await db.schema
    .createTable('federation_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.references('events.event_id').onDelete('cascade'))
    .addColumn('edu_json', 'text')
    .addColumn('queued_ts', 'bigint', (c) => c.notNull())
    .addCheckConstraint('federation_outbox_pdu_xor_edu', sql`(event_id is null) <> (edu_json is null)`)
    .execute();
  // The sender drains one destination at a time, oldest first.
  await db.schema
    .createIndex('federation_outbox_destination_id')
    .on('federation_outbox')
    .columns(['destination', 'id'])
    .execute();

  await db.schema
    .createTable('destinations')
    .addColumn('destination', 'text', (c) => c.primaryKey())
    .addColumn('failure_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_last_ts', 'bigint')
    .addColumn('retry_interval_ms', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success_ts', 'bigint')
    .execute();

  // --- Streams ------------------------------------------------------------------------------

  await sql`create sequence events_stream_seq`.execute(db);
}

async function down(db: Kysely<any>): Promise<void> {
  await sql`drop sequence events_stream_seq`.execute(db);
  for (const table of [
    'destinations',
    'federation_outbox',
    'server_keys',
    'room_aliases',
    'account_data',
    'access_tokens',
    'devices',
    'users',
    'rooms',
    'forward_extremities',
    'current_state',
    'event_auth',
    'event_edges',
    'events',
    'state_snapshot_entries',
    'state_snapshots',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop sequence account_data_stream_seq`.execute(db);
}

export const migration0001Initial: Migration = { up, down };
