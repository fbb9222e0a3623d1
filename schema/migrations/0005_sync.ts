// /sync's tables and indexes (client-server § "Filtering", § "Syncing").
//
// - `filters`: filters uploaded by POST /user/{userId}/filter. Clients upload the same
//   filter on every start, so a filter is stored once per user and content (`json_hash` is
//   the SHA-256 of its canonical JSON) and uploading it again returns the same ID.
// - `events_member_stream`: incremental sync asks "which of this user's memberships changed
//   between two stream positions?" across all rooms; without this index that is a scan of
//   every event.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence filters_id_seq`.execute(db);
  await db.schema
    .createTable('filters')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('filter_id', 'text', (c) => c.notNull())
    .addColumn('json', 'text', (c) => c.notNull())
    .addColumn('json_hash', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('filters_pkey', ['user_id', 'filter_id'])
    .addUniqueConstraint('filters_user_hash', ['user_id', 'json_hash'])
    .execute();

  await db.schema
    .createIndex('events_member_stream')
    .on('events')
    .columns(['state_key', 'stream_ordering'])
    .where(sql.ref('type'), '=', 'm.room.member')
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_member_stream').execute();
  await db.schema.dropTable('filters').execute();
  await sql`drop sequence filters_id_seq`.execute(db);
}

export const migration0005Sync: Migration = { up, down };
