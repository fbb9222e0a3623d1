// Server-side search (client-server § "Server Side Search").
//
// - `event_search`: one row per searchable timeline event (`content.body` of m.room.message,
//   `content.name` of m.room.name, `content.topic` of m.room.topic), with its text as a
//   PostgreSQL `tsvector` under a GIN index. Derived from `events` after commit by a stream
//   consumer (its position in `event_consumer_positions`), so the roomserver's write path
//   does not pay for it; rows of redacted events are deleted when the redaction arrives.
//
// The user directory (§ "User directory") has no table: it is read from `current_state`
// (memberships, join rules, history visibility) and `profiles` when a client searches, so
// it can never lag behind a join, leave or profile change.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('event_search')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    // `content.body`, `content.name` or `content.topic`: the request's `keys`.
    .addColumn('key', 'text', (c) => c.notNull())
    // The indexed text, for highlights (ts_headline reads the words it matched).
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('vector', sql`tsvector`, (c) => c.notNull())
    .addColumn('stream_ordering', 'bigint', (c) => c.notNull())
    .addColumn('origin_server_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('event_search_vector').on('event_search').using('gin').column('vector').execute();
  await db.schema.createIndex('event_search_room_stream').on('event_search').columns(['room_id', 'stream_ordering']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('event_search').execute();
}

export const migration0013SearchUserDirectory: Migration = { up, down };
