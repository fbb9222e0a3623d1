// Backfill (server-server § "Backfilling and retrieving missing events"): history fetched
// from a resident server after joining sorts *before* the room's existing timeline. Its
// stream positions are negative, taken from this sequence and negated, so each backfilled
// batch (older than the last) sorts below everything stored before it.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence events_backfill_seq`.execute(db);
}

async function down(db: Kysely<any>): Promise<void> {
  await sql`drop sequence events_backfill_seq`.execute(db);
}

export const migration0021Backfill: Migration = { up, down };
