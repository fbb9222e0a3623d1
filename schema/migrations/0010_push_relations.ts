// Push rules, pushers, notifications and event relations (client-server § "Push
// Notifications", § "Forming relationships between events", § "Threading").
//
// - `push_rules`: each user's own rules, ordered per kind by `position` (lowest = most
//   important). The server-default rules are code, not rows; `push_rule_defaults` holds a
//   user's changes to them (enabled, actions).
// - `pushers`: HTTP pushers (POST /pushers/set); `push_outbox`: deliveries to push gateways
//   not yet acknowledged, retried with backoff, so a restart or a gateway outage loses none.
// - `user_notifications`: the events that notified each user (GET /notifications).
// - `event_relations`: the `m.relates_to` of every timeline event, derived from `events`
//   after commit (outside the roomserver's write path) and kept up by a stream cursor.
// - `event_consumer_positions`: how far each post-commit consumer has read the event stream.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('push_rules')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('conditions', 'text')
    .addColumn('pattern', 'text')
    .addColumn('actions', 'text', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('push_rules_pkey', ['user_id', 'kind', 'rule_id'])
    .execute();

  await db.schema
    .createTable('push_rule_defaults')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('enabled', 'boolean')
    .addColumn('actions', 'text')
    .addPrimaryKeyConstraint('push_rule_defaults_pkey', ['user_id', 'kind', 'rule_id'])
    .execute();

  await db.schema
    .createTable('pushers')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('pushkey', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('app_display_name', 'text', (c) => c.notNull())
    .addColumn('device_display_name', 'text', (c) => c.notNull())
    .addColumn('profile_tag', 'text')
    .addColumn('lang', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('pushkey_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('pushers_pkey', ['user_id', 'app_id', 'pushkey'])
    .execute();
  // `append: false` removes other users' pushers with the same app and key.
  await db.schema.createIndex('pushers_app_pushkey').on('pushers').columns(['app_id', 'pushkey']).execute();

  await db.schema
    .createTable('push_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('pushkey', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('tweaks', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_ts', 'bigint', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('push_outbox_due').on('push_outbox').columns(['next_attempt_ts', 'id']).execute();

  await db.schema
    .createTable('user_notifications')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('stream_ordering', 'bigint', (c) => c.notNull())
    .addColumn('actions', 'text', (c) => c.notNull())
    .addColumn('highlight', 'boolean', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_notifications_pkey', ['user_id', 'event_id'])
    .execute();
  await db.schema
    .createIndex('user_notifications_user_stream')
    .on('user_notifications')
    .columns(['user_id', 'stream_ordering'])
    .execute();

  await db.schema
    .createTable('event_relations')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('relates_to_id', 'text', (c) => c.notNull())
    .addColumn('rel_type', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('stream_ordering', 'bigint', (c) => c.notNull())
    .addColumn('origin_server_ts', 'bigint', (c) => c.notNull())
    // `m.annotation`'s `key`, for refusing duplicate annotations.
    .addColumn('annotation_key', 'text')
    .execute();
  await db.schema
    .createIndex('event_relations_parent')
    .on('event_relations')
    .columns(['relates_to_id', 'rel_type', 'stream_ordering'])
    .execute();
  await db.schema
    .createIndex('event_relations_room_threads')
    .on('event_relations')
    .columns(['room_id', 'rel_type', 'stream_ordering'])
    .where(sql.ref('rel_type'), '=', 'm.thread')
    .execute();

  await db.schema
    .createTable('event_consumer_positions')
    .addColumn('consumer', 'text', (c) => c.primaryKey())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'event_consumer_positions',
    'event_relations',
    'user_notifications',
    'push_outbox',
    'pushers',
    'push_rule_defaults',
    'push_rules',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

export const migration0010PushRelations: Migration = { up, down };
