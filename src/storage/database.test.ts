import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from './database.ts';
import { DirectoryLockedError } from './directory-lock.ts';
import { migrateToLatest } from './migrate.ts';
import { describeEngines } from './testing.ts';

// Signed events from /work/shared/matrix-spec/test-vectors.md §5 (appendices.md § "Event
// Signing"): the spec's input objects in the spec's key order, with the published hash and
// signature filled in. Hashes, signatures and event IDs cover the bytes a server received,
// so the stored text must come back byte for byte — key order, escapes and spacing included.
const SIGNED_MINIMAL_EVENT =
  '{"room_id":"!x:domain","sender":"@a:domain","origin":"domain","origin_server_ts":1000000,' +
  '"signatures":{"domain":{"ed25519:1":"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"}},' +
  '"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"type":"X","content":{},"prev_events":[],' +
  '"auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}}';
const SIGNED_MESSAGE_EVENT =
  '{"content":{"body":"Here is the message content"},"event_id":"$0:domain","origin":"domain",' +
  '"origin_server_ts":1000000,"type":"m.room.message","room_id":"!r:domain","sender":"@u:domain",' +
  '"signatures":{"domain":{"ed25519:1":"Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"}},' +
  '"unsigned":{"age_ts":1000000},"hashes":{"sha256":"onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"}}';
// Not canonical on purpose: raw non-ASCII (the appendix's 日本語 example, an astral-plane
// emoji), an escaped code point (`\u65E5`), an escaped NUL, `1.0`, a backslash, whitespace
// and newlines. JSON.parse + JSON.stringify would change every one of them.
const NON_CANONICAL_EVENT = `{
  "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
  "content": {"body": "日本語 😀 caf\\u00e9 \\u65E5", "nul": "a\\u0000b", "n": 1.0, "path": "C:\\\\x"},
  "origin_server_ts": 1000000, "depth": 4, "prev_events": [], "auth_events": []
}`;

describeEngines('database', (getDb) => {
  test('bigint columns and int8 expressions come back as JS numbers', async () => {
    const { kysely } = getDb();
    const createdTs = 1_700_000_000_123;
    await kysely.insertInto('users').values({ user_id: '@n:example.org', password_hash: null, created_ts: createdTs }).execute();
    const user = await kysely.selectFrom('users').selectAll().where('user_id', '=', '@n:example.org').executeTakeFirstOrThrow();
    assert.equal(user.created_ts, createdTs);
    assert.equal(user.is_admin, false);

    const counted = await kysely.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(counted.n, 1);

    const { rows } = await sql<{ max: number; list: Array<number | null>; empty: number[] }>`
      select ${Number.MAX_SAFE_INTEGER}::int8 as max, array[1, null, -3]::int8[] as list, '{}'::int8[] as empty`.execute(kysely);
    assert.deepEqual(rows, [{ max: Number.MAX_SAFE_INTEGER, list: [1, null, -3], empty: [] }]);
  });

  test('an int8 beyond 2^53 is an error, not a rounded number, and the connection survives', async () => {
    const { kysely } = getDb();
    await assert.rejects(sql`select 9007199254740993::int8 as v`.execute(kysely), /9007199254740993/);
    const { rows } = await sql<{ v: number }>`select 1::int8 as v`.execute(kysely);
    assert.deepEqual(rows, [{ v: 1 }]);
  });

  test('event JSON round-trips byte for byte (appendices § Event Signing vectors)', async () => {
    const { kysely } = getDb();
    const events = [
      { event_id: '$minimal', json: SIGNED_MINIMAL_EVENT, stream_ordering: 1 },
      { event_id: '$0:domain', json: SIGNED_MESSAGE_EVENT, stream_ordering: 2 },
      { event_id: '$noncanonical', json: NON_CANONICAL_EVENT, stream_ordering: null },
    ];
    await kysely
      .insertInto('events')
      .values(
        events.map((e) => ({
          ...e,
          room_id: '!r:domain',
          depth: 3,
          type: 'm.room.message',
          state_key: null,
          sender: '@u:domain',
          origin_server_ts: 1_000_000,
          room_version: '1',
          outlier: e.stream_ordering === null,
          rejected_reason: null,
          redacted_by: null,
          state_before_snapshot_id: null,
          received_ts: 1_000_001,
        })),
      )
      .execute();
    for (const e of events) {
      const row = await kysely
        .selectFrom('events')
        .select(['json', 'stream_ordering', (eb) => eb.fn<number>('octet_length', ['json']).as('bytes')])
        .where('event_id', '=', e.event_id)
        .executeTakeFirstOrThrow();
      assert.equal(row.json, e.json);
      assert.ok(Buffer.from(row.json, 'utf8').equals(Buffer.from(e.json, 'utf8')));
      // The server stored the UTF-8 bytes themselves, not a re-encoding.
      assert.equal(row.bytes, Buffer.byteLength(e.json, 'utf8'));
      assert.equal(row.stream_ordering, e.stream_ordering);
    }
  });

  test('a transaction that throws leaves nothing behind', async () => {
    const { kysely } = getDb();
    await assert.rejects(
      kysely.transaction().execute(async (trx) => {
        await trx.insertInto('rooms').values({ room_id: '!gone:example.org', room_version: '12', creator: '@a:example.org', created_ts: 1 }).execute();
        throw new Error('abort');
      }),
      /abort/,
    );
    const found = await kysely.selectFrom('rooms').select('room_id').where('room_id', '=', '!gone:example.org').execute();
    assert.deepEqual(found, []);
  });
});

describe('PGlite', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stoa-pglite-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('creates the data directory, keeps data across reopen, and locks the directory while open', async () => {
    const path = join(dir, 'nested', 'db');
    const db = await openDatabase({ engine: 'pglite', path });
    try {
      assert.equal(db.engine, 'pglite');
      assert.equal((await migrateToLatest(db)).error, undefined);
      await db.kysely.insertInto('rooms').values({ room_id: '!kept:example.org', room_version: '12', creator: '@a:example.org', created_ts: 5 }).execute();
      await assert.rejects(openDatabase({ engine: 'pglite', path }), DirectoryLockedError);
    } finally {
      await db.close();
    }
    await db.close(); // closing twice is harmless

    const reopened = await openDatabase({ engine: 'pglite', path });
    try {
      assert.deepEqual((await migrateToLatest(reopened)).results, []);
      const rooms = await reopened.kysely.selectFrom('rooms').select(['room_id', 'created_ts']).execute();
      assert.deepEqual(rooms, [{ room_id: '!kept:example.org', created_ts: 5 }]);
    } finally {
      await reopened.close();
    }
  });

  test('a lock left by a process that no longer runs is taken over', async () => {
    const path = join(dir, 'stale');
    // Far above any pid_max, so no live process has it.
    await writeFile(`${path}.lock`, '2147483646\n');
    const db = await openDatabase({ engine: 'pglite', path });
    await db.close();
  });
});

describeEngines(
  'PGlite single connection',
  (getDb) => {
    test('concurrent transactions do not interleave', async () => {
      const { kysely } = getDb();
      await sql`create table tx_log (id serial primary key, entry text not null)`.execute(kysely);
      const writer = (name: string) =>
        kysely.transaction().execute(async (trx) => {
          for (let i = 0; i < 3; i++) {
            await sql`insert into tx_log (entry) values (${`${name}${i}`})`.execute(trx);
            await sleep(5);
          }
        });
      await Promise.all([writer('a'), writer('b'), writer('c')]);
      const { rows } = await sql<{ entry: string }>`select entry from tx_log order by id`.execute(kysely);
      const entries = rows.map((r) => r.entry);
      // Each transaction's three rows are contiguous.
      assert.equal(entries.length, 9);
      for (let start = 0; start < 9; start += 3) {
        const name = entries[start]?.[0];
        assert.deepEqual(entries.slice(start, start + 3), [`${name}0`, `${name}1`, `${name}2`]);
      }
    });

    test('a query issued during a transaction does not join it and survives its rollback', async () => {
      const { kysely } = getDb();
      await sql`create table tx_probe (entry text not null)`.execute(kysely);
      let inside!: () => void;
      const entered = new Promise<void>((resolve) => (inside = resolve));
      const failing = kysely.transaction().execute(async (trx) => {
        await sql`insert into tx_probe (entry) values ('rolled back')`.execute(trx);
        inside();
        await sleep(20);
        throw new Error('roll back');
      });
      await entered;
      const outside = sql`insert into tx_probe (entry) values ('outside')`.execute(kysely);
      await assert.rejects(failing, /roll back/);
      await outside;
      const { rows } = await sql<{ entry: string }>`select entry from tx_probe`.execute(kysely);
      assert.deepEqual(rows, [{ entry: 'outside' }]);
    });
  },
  { engines: ['pglite'] },
);
