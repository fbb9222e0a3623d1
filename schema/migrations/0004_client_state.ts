// Per-user client state beside the room DAG (client-server API modules "Profiles",
// "Receipts", "Presence"; account data already has its table from 0001).
//
// - `profiles`: one JSON object of profile fields per local user. No row = never set.
// - `receipts`: the latest receipt per (room, type, user, thread). `thread_id` is `''` for
//   unthreaded receipts, since a primary key column cannot be null. Each write takes a new
//   position of `receipts_stream_seq`, so /sync can ask "what changed since N".
// - `presence`: each user's last presence, so a restart does not turn everyone offline
//   until they next sync; positions from `presence_stream_seq`.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('profiles')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('updated_ts', 'bigint', (c) => c.notNull())
    .execute();

  await sql`create sequence receipts_stream_seq`.execute(db);
  await db.schema
    .createTable('receipts')
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('receipt_type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('stream_id', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('receipts_pkey', ['room_id', 'receipt_type', 'user_id', 'thread_id'])
    .execute();
  // Incremental sync: "receipts of these rooms since position N".
  await db.schema.createIndex('receipts_room_stream').on('receipts').columns(['room_id', 'stream_id']).execute();

  await sql`create sequence presence_stream_seq`.execute(db);
  await db.schema
    .createTable('presence')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status_msg', 'text')
    .addColumn('last_active_ts', 'bigint', (c) => c.notNull())
    .addColumn('currently_active', 'boolean', (c) => c.notNull())
    .addColumn('stream_id', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('presence_stream').on('presence').column('stream_id').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('presence').execute();
  await sql`drop sequence presence_stream_seq`.execute(db);
  await db.schema.dropTable('receipts').execute();
  await sql`drop sequence receipts_stream_seq`.execute(db);
  await db.schema.dropTable('profiles').execute();
}

export const migration0004ClientState: Migration = { up, down };
