// Test rig: makes inserts into a table fail inside the database, so tests of other layers
// can check that a write transaction failing half-way leaves nothing behind. Not imported by
// production code. Identifiers come from the tests themselves, never from input.

import { sql } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Until the returned function is called, inserting into `table` a row whose `column` equals
 * `value` raises "injected failure".
 */
export async function failInsertsWhere(
  db: StoaDatabase,
  table: keyof Database,
  column: string,
  value: string,
): Promise<() => Promise<void>> {
  if (!IDENTIFIER.test(table) || !IDENTIFIER.test(column)) throw new Error('unsafe identifier');
  const name = `stoa_fault_${table}_${column}`;
  const literal = `'${value.replace(/'/g, "''")}'`;
  await sql
    .raw(
      `create function ${name}() returns trigger language plpgsql as $$
       begin if new.${column} = ${literal} then raise exception 'injected failure'; end if; return new; end $$`,
    )
    .execute(db.kysely);
  await sql.raw(`create trigger ${name} before insert on ${table} for each row execute function ${name}()`).execute(db.kysely);
  return async () => {
    await sql.raw(`drop trigger ${name} on ${table}`).execute(db.kysely);
    await sql.raw(`drop function ${name}()`).execute(db.kysely);
  };
}
