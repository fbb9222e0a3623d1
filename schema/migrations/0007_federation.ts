// Inbound federation (server-server § "Transactions"): the transactions received from each
// origin with the response we gave, so a retried `PUT /send/{txnId}` — the sender did not
// see our 200 — is answered again without processing its PDUs and EDUs twice. Rows are
// kept for a limited time (the sender retries within minutes, not days) and pruned by age.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('federation_inbound_transactions')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('txn_id', 'text', (c) => c.notNull())
    // The JSON response body we sent, returned as it is to a retry.
    .addColumn('response_json', 'text', (c) => c.notNull())
    .addColumn('received_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('federation_inbound_transactions_pkey', ['origin', 'txn_id'])
    .execute();
  await db.schema
    .createIndex('federation_inbound_transactions_received_ts')
    .on('federation_inbound_transactions')
    .column('received_ts')
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('federation_inbound_transactions').execute();
}

export const migration0007Federation: Migration = { up, down };
