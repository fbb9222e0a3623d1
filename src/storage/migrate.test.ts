import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Selectable } from 'kysely';
import type { Migration } from 'kysely/migration';
import { STREAM_SEQUENCES, type Database } from '../../schema/database.ts';
import { migrations as allMigrations } from '../../schema/migrations/index.ts';
import type { StoaDatabase } from './database.ts';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrateToLatest } from './migrate.ts';
import { createTestDatabase, describeEngines, testEngines } from './testing.ts';

// The nullability of every column, derived from schema/database.ts at compile time: this
// literal fails to typecheck unless it names exactly the columns of each table interface
// with the nullability its type declares, and the test below compares it with what the
// migrations actually created. Together they keep the kysely types and the SQL in step.
type Nullability<T> = {
  readonly [K in keyof Selectable<T>]-?: null extends Selectable<T>[K] ? 'nullable' : 'not null';
};
const expectedSchema: { readonly [T in keyof Database]: Nullability<Database[T]> } = {
  events: {
    event_id: 'not null',
    room_id: 'not null',
    stream_ordering: 'nullable',
    depth: 'not null',
    type: 'not null',
    state_key: 'nullable',
    sender: 'not null',
    origin_server_ts: 'not null',
    json: 'not null',
    room_version: 'not null',
    outlier: 'not null',
    rejected_reason: 'nullable',
    soft_failed: 'not null',
    redacted_by: 'nullable',
    state_before_snapshot_id: 'nullable',
    received_ts: 'not null',
    redacts: 'nullable',
  },
  push_rules: {
    user_id: 'not null',
    kind: 'not null',
    rule_id: 'not null',
    position: 'not null',
    conditions: 'nullable',
    pattern: 'nullable',
    actions: 'not null',
    enabled: 'not null',
  },
  push_rule_defaults: { user_id: 'not null', kind: 'not null', rule_id: 'not null', enabled: 'nullable', actions: 'nullable' },
  pushers: {
    user_id: 'not null',
    app_id: 'not null',
    pushkey: 'not null',
    kind: 'not null',
    app_display_name: 'not null',
    device_display_name: 'not null',
    profile_tag: 'nullable',
    lang: 'not null',
    data: 'not null',
    pushkey_ts: 'not null',
  },
  push_outbox: {
    id: 'not null',
    user_id: 'not null',
    app_id: 'not null',
    pushkey: 'not null',
    room_id: 'not null',
    event_id: 'not null',
    tweaks: 'not null',
    attempts: 'not null',
    next_attempt_ts: 'not null',
    created_ts: 'not null',
  },
  user_notifications: {
    user_id: 'not null',
    event_id: 'not null',
    room_id: 'not null',
    stream_ordering: 'not null',
    actions: 'not null',
    highlight: 'not null',
    ts: 'not null',
  },
  event_relations: {
    event_id: 'not null',
    relates_to_id: 'not null',
    rel_type: 'not null',
    room_id: 'not null',
    sender: 'not null',
    type: 'not null',
    stream_ordering: 'not null',
    origin_server_ts: 'not null',
    annotation_key: 'nullable',
  },
  event_consumer_positions: { consumer: 'not null', position: 'not null' },
  event_search: {
    event_id: 'not null',
    room_id: 'not null',
    sender: 'not null',
    type: 'not null',
    key: 'not null',
    value: 'not null',
    vector: 'not null',
    stream_ordering: 'not null',
    origin_server_ts: 'not null',
  },
  appservice_queue: { id: 'not null', appservice_id: 'not null', kind: 'not null', json: 'not null', txn_id: 'nullable', created_ts: 'not null' },
  event_transactions: { room_id: 'not null', user_id: 'not null', device_id: 'not null', txn_id: 'not null', event_id: 'not null', created_ts: 'not null' },
  event_edges: { event_id: 'not null', prev_event_id: 'not null' },
  event_auth: { event_id: 'not null', auth_event_id: 'not null' },
  state_snapshots: { id: 'not null', room_id: 'not null', parent_id: 'nullable', chain_length: 'not null', created_ts: 'not null' },
  state_snapshot_entries: { snapshot_id: 'not null', type: 'not null', state_key: 'not null', event_id: 'nullable' },
  current_state: { room_id: 'not null', type: 'not null', state_key: 'not null', event_id: 'not null', membership: 'nullable' },
  forward_extremities: { room_id: 'not null', event_id: 'not null' },
  rooms: { room_id: 'not null', room_version: 'not null', creator: 'not null', is_public: 'not null', created_ts: 'not null' },
  users: {
    user_id: 'not null',
    password_hash: 'nullable',
    created_ts: 'not null',
    is_admin: 'not null',
    is_guest: 'not null',
    deactivated: 'not null',
  },
  devices: {
    user_id: 'not null',
    device_id: 'not null',
    display_name: 'nullable',
    created_ts: 'not null',
    last_seen_ts: 'nullable',
    last_seen_ip: 'nullable',
  },
  access_tokens: {
    token_hash: 'not null',
    user_id: 'not null',
    device_id: 'not null',
    created_ts: 'not null',
    expires_ts: 'nullable',
    last_used_ts: 'nullable',
    refresh_token_id: 'nullable',
    used: 'not null',
  },
  refresh_tokens: { id: 'not null', token_hash: 'not null', user_id: 'not null', device_id: 'not null', created_ts: 'not null', next_token_id: 'nullable' },
  login_tokens: { token_hash: 'not null', user_id: 'not null', created_ts: 'not null', expires_ts: 'not null' },
  sso_pending_logins: {
    state: 'not null',
    idp_id: 'not null',
    nonce: 'not null',
    code_verifier: 'not null',
    redirect_url: 'nullable',
    uia_session_id: 'nullable',
    created_ts: 'not null',
    expires_ts: 'not null',
  },
  sso_user_links: { idp_id: 'not null', subject: 'not null', user_id: 'not null', created_ts: 'not null' },
  registration_tokens: { token: 'not null', uses_allowed: 'nullable', completed: 'not null', expiry_ts: 'nullable', created_ts: 'not null' },
  uia_sessions: {
    session_id: 'not null',
    operation: 'not null',
    user_id: 'nullable',
    completed: 'not null',
    data: 'not null',
    created_ts: 'not null',
    expires_ts: 'not null',
  },
  registration_nonces: { nonce: 'not null', created_ts: 'not null' },
  account_data: { user_id: 'not null', room_id: 'not null', type: 'not null', content: 'not null', stream_id: 'not null' },
  room_aliases: { room_alias: 'not null', room_id: 'not null', creator: 'not null', created_ts: 'not null' },
  forgotten_rooms: { user_id: 'not null', room_id: 'not null', membership_event_id: 'not null', forgotten_ts: 'not null' },
  media: {
    server_name: 'not null',
    media_id: 'not null',
    user_id: 'nullable',
    content_type: 'nullable',
    filename: 'nullable',
    size: 'nullable',
    sha256: 'nullable',
    created_ts: 'not null',
    stored_ts: 'nullable',
    pending_expires_ts: 'nullable',
    quarantined_ts: 'nullable',
    quarantined_by: 'nullable',
  },
  media_thumbnails: {
    server_name: 'not null',
    media_id: 'not null',
    width: 'not null',
    height: 'not null',
    method: 'not null',
    animated: 'not null',
    content_type: 'not null',
    size: 'not null',
    sha256: 'not null',
    created_ts: 'not null',
  },
  url_previews: { url: 'not null', response_json: 'not null', fetched_ts: 'not null', expires_ts: 'not null' },
  server_keys: {
    server_name: 'not null',
    key_id: 'not null',
    public_key: 'not null',
    valid_until_ts: 'nullable',
    expired_ts: 'nullable',
    fetched_ts: 'not null',
    key_json: 'not null',
  },
  federation_outbox: { id: 'not null', destination: 'not null', event_id: 'nullable', edu_json: 'nullable', queued_ts: 'not null' },
  destinations: {
    destination: 'not null',
    failure_count: 'not null',
    retry_last_ts: 'nullable',
    retry_interval_ms: 'not null',
    last_success_ts: 'nullable',
  },
  filters: { user_id: 'not null', filter_id: 'not null', json: 'not null', json_hash: 'not null', created_ts: 'not null' },
  federation_inbound_transactions: { origin: 'not null', txn_id: 'not null', response_json: 'not null', received_ts: 'not null' },
  profiles: { user_id: 'not null', fields: 'not null', updated_ts: 'not null' },
  receipts: {
    room_id: 'not null',
    receipt_type: 'not null',
    user_id: 'not null',
    thread_id: 'not null',
    event_id: 'not null',
    ts: 'not null',
    stream_id: 'not null',
  },
  presence: {
    user_id: 'not null',
    state: 'not null',
    status_msg: 'nullable',
    last_active_ts: 'not null',
    currently_active: 'not null',
    stream_id: 'not null',
  },
  e2e_device_keys: { user_id: 'not null', device_id: 'not null', key_json: 'not null', updated_ts: 'not null' },
  e2e_one_time_keys: { user_id: 'not null', device_id: 'not null', algorithm: 'not null', key_id: 'not null', key_json: 'not null', uploaded_ts: 'not null' },
  e2e_fallback_keys: { user_id: 'not null', device_id: 'not null', algorithm: 'not null', key_id: 'not null', key_json: 'not null', used: 'not null' },
  e2e_cross_signing_keys: { user_id: 'not null', key_type: 'not null', public_key: 'not null', key_json: 'not null', updated_ts: 'not null' },
  e2e_key_signatures: { target_user_id: 'not null', target_key_id: 'not null', signer_user_id: 'not null', signer_key_id: 'not null', signature: 'not null' },
  e2e_device_list_stream: { stream_id: 'not null', user_id: 'not null', created_ts: 'not null' },
  e2e_remote_device_lists: { user_id: 'not null', stream_id: 'not null', stale: 'not null', updated_ts: 'not null' },
  e2e_remote_devices: { user_id: 'not null', device_id: 'not null', display_name: 'nullable', key_json: 'nullable' },
  e2e_to_device: { stream_id: 'not null', user_id: 'not null', device_id: 'not null', sender: 'not null', type: 'not null', content: 'not null', created_ts: 'not null' },
  e2e_to_device_txns: { user_id: 'not null', device_id: 'not null', txn_id: 'not null', created_ts: 'not null' },
  e2e_backup_versions: { user_id: 'not null', version: 'not null', algorithm: 'not null', auth_data: 'not null', etag: 'not null', deleted: 'not null' },
  e2e_backup_keys: {
    user_id: 'not null',
    version: 'not null',
    room_id: 'not null',
    session_id: 'not null',
    first_message_index: 'not null',
    forwarded_count: 'not null',
    is_verified: 'not null',
    session_data: 'not null',
  },
  admin_audit_log: {
    seq: 'not null',
    ts: 'not null',
    actor: 'not null',
    action: 'not null',
    target: 'nullable',
    origin: 'not null',
    details: 'not null',
    prev_hash: 'not null',
    hash: 'not null',
  },
  content_reports: {
    id: 'not null',
    ts: 'not null',
    reporter: 'not null',
    kind: 'not null',
    room_id: 'nullable',
    event_id: 'nullable',
    target_user_id: 'nullable',
    reason: 'nullable',
    score: 'nullable',
  },
  openid_tokens: {
    token: 'not null',
    user_id: 'not null',
    expires_ts: 'not null',
  },
  admin_roles: { user_id: 'not null', role: 'not null', granted_by: 'not null', granted_ts: 'not null' },
  erased_users: { user_id: 'not null', erased_ts: 'not null' },
  blocked_rooms: { room_id: 'not null', blocked_by: 'not null', blocked_ts: 'not null' },
  room_deletions: {
    delete_id: 'not null',
    room_id: 'not null',
    status: 'not null',
    result: 'not null',
    error: 'nullable',
    requested_by: 'not null',
    created_ts: 'not null',
  },
  shadow_banned_users: { user_id: 'not null', banned_by: 'not null', banned_ts: 'not null' },
  ratelimit_overrides: { user_id: 'not null', messages_per_second: 'not null', burst_count: 'not null' },
  server_notice_rooms: { user_id: 'not null', room_id: 'not null', created_ts: 'not null' },
  webhooks: {
    webhook_id: 'not null',
    room_id: 'not null',
    sender: 'not null',
    name: 'not null',
    secret_hash: 'not null',
    created_by: 'not null',
    created_ts: 'not null',
    revoked_ts: 'nullable',
    last_used_ts: 'nullable',
  },
  legal_holds: {
    hold_id: 'not null',
    scope: 'not null',
    target: 'not null',
    reason: 'not null',
    created_by: 'not null',
    created_ts: 'not null',
    released_by: 'nullable',
    released_ts: 'nullable',
  },
  purged_events: { event_id: 'not null', room_id: 'not null', reason: 'not null', purged_ts: 'not null', original_sha256: 'not null' },
};

async function relationExists(db: StoaDatabase, name: string): Promise<boolean> {
  const { rows } = await sql<{ found: string | null }>`select to_regclass(${name})::text as found`.execute(db.kysely);
  return rows[0]?.found !== null;
}

async function recordedMigrations(db: StoaDatabase): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db.kysely);
  return rows.map((r) => r.name);
}

describeEngines('migrations', (getDb) => {
  test('the initial migration creates the tables and columns schema/database.ts declares', async () => {
    const tables = await getDb().kysely.introspection.getTables();
    const byName = new Map(tables.map((t) => [t.name, t]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      [...Object.keys(expectedSchema), MIGRATION_TABLE, MIGRATION_LOCK_TABLE].sort(),
    );
    for (const [tableName, columns] of Object.entries(expectedSchema)) {
      const actual = byName.get(tableName);
      assert.ok(actual, tableName);
      const actualColumns = Object.fromEntries(
        actual.columns.map((c) => [c.name, c.isNullable ? 'nullable' : 'not null']),
      );
      assert.deepEqual(actualColumns, columns, `columns of ${tableName}`);
    }
  });

  test('every stream sequence schema/database.ts names exists and counts upwards', async () => {
    const db = getDb();
    for (const sequence of Object.values(STREAM_SEQUENCES)) {
      const { rows } = await sql<{ a: number; b: number }>`select nextval(${sequence}) as a, nextval(${sequence}) as b`.execute(db.kysely);
      const row = rows[0];
      assert.ok(row, sequence);
      assert.equal(typeof row.a, 'number');
      assert.ok(row.b > row.a, sequence);
    }
  });

  test('a second run applies nothing', async () => {
    const db = getDb();
    const report = await migrateToLatest(db);
    assert.equal(report.error, undefined);
    assert.deepEqual(report.results, []);
    assert.deepEqual(await recordedMigrations(db), Object.keys(allMigrations).sort());
  });
});

describeEngines(
  'migration failures roll back',
  (getDb) => {
    // Each step continues from the database the previous step left.
    const createA: Migration = { up: async (db) => void (await db.schema.createTable('probe_a').addColumn('x', 'integer').execute()) };
    const createC: Migration = { up: async (db) => void (await db.schema.createTable('probe_c').addColumn('x', 'integer').execute()) };
    const createAndFill = async (db: Parameters<Migration['up']>[0]): Promise<void> => {
      await sql`create sequence probe_seq`.execute(db);
      await db.schema.createTable('probe_b').addColumn('x', 'integer').execute();
      await sql`insert into probe_b (x) values (1)`.execute(db);
    };

    test('a failing first migration leaves nothing behind', async () => {
      const db = getDb();
      const report = await migrateToLatest(db, {
        '0001_a': {
          up: async (trx) => {
            await createA.up(trx);
            await sql`select * from no_such_table`.execute(trx);
          },
        },
      });
      assert.ok(report.error instanceof Error);
      assert.deepEqual(report.results, [{ name: '0001_a', status: 'failed' }]);
      assert.equal(await relationExists(db, 'probe_a'), false);
      assert.deepEqual(await recordedMigrations(db), []);
    });

    test('migrations before a failure stay applied; the failing one and later ones leave no trace', async () => {
      const db = getDb();
      const report = await migrateToLatest(db, {
        '0001_a': createA,
        '0002_b': {
          up: async (trx) => {
            await createAndFill(trx);
            await sql`insert into probe_b (x) values ('not a number')`.execute(trx);
          },
        },
        '0003_c': createC,
      });
      assert.ok(report.error instanceof Error);
      assert.deepEqual(report.results, [
        { name: '0001_a', status: 'applied' },
        { name: '0002_b', status: 'failed' },
        { name: '0003_c', status: 'not-run' },
      ]);
      assert.equal(await relationExists(db, 'probe_a'), true);
      assert.equal(await relationExists(db, 'probe_b'), false);
      assert.equal(await relationExists(db, 'probe_seq'), false);
      assert.equal(await relationExists(db, 'probe_c'), false);
      assert.deepEqual(await recordedMigrations(db), ['0001_a']);
    });

    test('once fixed, the remaining migrations apply', async () => {
      const db = getDb();
      const fixed = { '0001_a': createA, '0002_b': { up: createAndFill }, '0003_c': createC };
      const report = await migrateToLatest(db, fixed);
      assert.equal(report.error, undefined);
      assert.deepEqual(report.results, [
        { name: '0002_b', status: 'applied' },
        { name: '0003_c', status: 'applied' },
      ]);
      const { rows } = await sql<{ x: number }>`select x from probe_b`.execute(db.kysely);
      assert.deepEqual(rows, [{ x: 1 }]);
      assert.deepEqual((await migrateToLatest(db, fixed)).results, []);
    });

    test('a migration set that lost an applied migration is refused, not run', async () => {
      const db = getDb();
      const report = await migrateToLatest(db, { '0001_a': createA, '0003_c': createC });
      assert.ok(report.error instanceof Error);
      assert.match(report.error.message, /0002_b/);
      assert.deepEqual(report.results, []);
    });
  },
  { migrate: false },
);

for (const engine of testEngines()) {
  test(`two migration runs at once apply each migration exactly once [${engine}]`, async () => {
    // On PostgreSQL the runs take separate pooled connections, as two starting processes
    // would, and kysely's advisory lock makes them take turns; PGlite serialises them itself.
    const fresh = await createTestDatabase(engine);
    try {
      const reports = await Promise.all([migrateToLatest(fresh.db), migrateToLatest(fresh.db)]);
      for (const report of reports) assert.equal(report.error, undefined);
      const applied = reports.flatMap((r) => r.results.filter((o) => o.status === 'applied').map((o) => o.name));
      assert.deepEqual(applied.sort(), Object.keys(allMigrations).sort());
      assert.deepEqual(await recordedMigrations(fresh.db), Object.keys(allMigrations).sort());
    } finally {
      await fresh.dispose();
    }
  });
}
