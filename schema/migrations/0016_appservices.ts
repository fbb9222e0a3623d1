// Application services (issue 10 item 1; application-service API § "Pushing events").
//
// `appservice_queue`: events (and ephemeral data) waiting to be pushed to an application
// service, in stream order per service. Rows are grouped into a transaction by setting
// `txn_id` once; a retry resends exactly the rows of that transaction under the same ID (the
// spec forbids altering a transaction on retry), and the rows are deleted when the service
// acknowledges it. How far each service has read the event stream is kept in
// `event_consumer_positions` under `appservice:<id>`, written in the same database
// transaction as the rows it queues, so a restart neither loses nor repeats an event.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('appservice_queue')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('appservice_id', 'text', (c) => c.notNull())
    // 'event' (the transaction's `events`) or 'ephemeral' (its `ephemeral`).
    .addColumn('kind', 'text', (c) => c.notNull())
    // The JSON object as it is sent.
    .addColumn('json', 'text', (c) => c.notNull())
    // Null until the row is part of a transaction.
    .addColumn('txn_id', 'bigint')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('appservice_queue_order').on('appservice_queue').columns(['appservice_id', 'id']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('appservice_queue').execute();
}

export const migration0016Appservices: Migration = { up, down };
