// The roomserver's additions to the room DAG tables (DESIGN.md "The event pipeline").
//
// - `events.redacts`: the event an `m.room.redaction` names (top-level in v1–v10, in
//   `content` from v11), so a redaction that arrives before its target can be applied
//   when the target arrives ("Handling redactions": the server waits for both events).
// - `event_transactions`: client transaction IDs (client-server API "Transaction
//   identifiers"), written in the same transaction as the event they produced, so a retried
//   PUT /send/{txnId} returns the first event instead of sending a second one.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').addColumn('redacts', 'text').execute();
  await db.schema
    .createIndex('events_redacts')
    .on('events')
    .column('redacts')
    .where(sql.ref('redacts'), 'is not', null)
    .execute();

  await db.schema
    .createTable('event_transactions')
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    // `''` when the sender has no device (application services, server notices).
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('txn_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull().references('events.event_id').onDelete('cascade'))
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_transactions_pkey', ['room_id', 'user_id', 'device_id', 'txn_id'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('event_transactions').execute();
  await db.schema.dropIndex('events_redacts').execute();
  await db.schema.alterTable('events').dropColumn('redacts').execute();
}

export const migration0002Roomserver: Migration = { up, down };
