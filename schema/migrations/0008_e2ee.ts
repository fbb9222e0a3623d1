// End-to-end encryption support (client-server § "End-to-End Encryption", § "Send-to-Device
// messaging"; server-server § "End-to-End Encryption", § "Device Management").
//
// - `e2e_device_keys`: each local device's identity keys as the device uploaded and signed
//   them (the JSON text, without signatures others added: those live in `e2e_key_signatures`).
// - `e2e_one_time_keys`: unclaimed one-time keys; a claim deletes the row it hands out, so a
//   key can be handed out at most once.
// - `e2e_fallback_keys`: one fallback key per device and algorithm, with whether it has been
//   handed out since it was uploaded (`device_unused_fallback_key_types`).
// - `e2e_cross_signing_keys`: master / self-signing / user-signing keys, local users' and
//   the cached ones of remote users; `public_key` is the unpadded base64 ed25519 key.
// - `e2e_key_signatures`: signatures uploaded through /keys/signatures/upload, by signer, on
//   a device key (`target_key_id` = device ID) or a cross-signing key (its public key).
// - `e2e_device_list_stream`: one row per change of a user's devices or keys (local or
//   remote), positions from `e2e_device_list_stream_seq`: /sync `device_lists.changed`,
//   /keys/changes, and the `stream_id`/`prev_id` of outgoing `m.device_list_update` EDUs.
// - `e2e_remote_device_lists` / `e2e_remote_devices`: the device lists of remote users we
//   share rooms with, with the remote stream ID last applied; `stale` asks for a resync.
// - `e2e_to_device`: to-device messages waiting for a device, positions from
//   `e2e_to_device_stream_seq`; deleted once the device syncs with a token past them.
// - `e2e_to_device_txns`: client transaction IDs of /sendToDevice, for idempotency.
// - `e2e_backup_versions` / `e2e_backup_keys`: server-side key backup; `etag` changes with
//   every change to a version's keys.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('e2e_device_keys')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('key_json', 'text', (c) => c.notNull())
    .addColumn('updated_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_device_keys_pkey', ['user_id', 'device_id'])
    .execute();

  await db.schema
    .createTable('e2e_one_time_keys')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('key_json', 'text', (c) => c.notNull())
    .addColumn('uploaded_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_one_time_keys_pkey', ['user_id', 'device_id', 'algorithm', 'key_id'])
    .execute();

  await db.schema
    .createTable('e2e_fallback_keys')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('key_json', 'text', (c) => c.notNull())
    .addColumn('used', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_fallback_keys_pkey', ['user_id', 'device_id', 'algorithm'])
    .execute();

  await db.schema
    .createTable('e2e_cross_signing_keys')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('key_type', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('key_json', 'text', (c) => c.notNull())
    .addColumn('updated_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_cross_signing_keys_pkey', ['user_id', 'key_type'])
    .execute();

  await db.schema
    .createTable('e2e_key_signatures')
    .addColumn('target_user_id', 'text', (c) => c.notNull())
    .addColumn('target_key_id', 'text', (c) => c.notNull())
    .addColumn('signer_user_id', 'text', (c) => c.notNull())
    .addColumn('signer_key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_key_signatures_pkey', ['target_user_id', 'target_key_id', 'signer_user_id', 'signer_key_id'])
    .execute();

  await sql`create sequence e2e_device_list_stream_seq`.execute(db);
  await db.schema
    .createTable('e2e_device_list_stream')
    .addColumn('stream_id', 'bigint', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('e2e_device_list_stream_user').on('e2e_device_list_stream').columns(['user_id', 'stream_id']).execute();

  await db.schema
    .createTable('e2e_remote_device_lists')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('stream_id', 'bigint', (c) => c.notNull())
    .addColumn('stale', 'boolean', (c) => c.notNull())
    .addColumn('updated_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('e2e_remote_devices')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('key_json', 'text')
    .addPrimaryKeyConstraint('e2e_remote_devices_pkey', ['user_id', 'device_id'])
    .execute();

  await sql`create sequence e2e_to_device_stream_seq`.execute(db);
  await db.schema
    .createTable('e2e_to_device')
    .addColumn('stream_id', 'bigint', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('e2e_to_device_recipient').on('e2e_to_device').columns(['user_id', 'device_id', 'stream_id']).execute();

  await db.schema
    .createTable('e2e_to_device_txns')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('txn_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_to_device_txns_pkey', ['user_id', 'device_id', 'txn_id'])
    .execute();

  await db.schema
    .createTable('e2e_backup_versions')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('auth_data', 'text', (c) => c.notNull())
    .addColumn('etag', 'bigint', (c) => c.notNull())
    .addColumn('deleted', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_backup_versions_pkey', ['user_id', 'version'])
    .execute();
  await db.schema
    .createTable('e2e_backup_keys')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('first_message_index', 'bigint', (c) => c.notNull())
    .addColumn('forwarded_count', 'bigint', (c) => c.notNull())
    .addColumn('is_verified', 'boolean', (c) => c.notNull())
    .addColumn('session_data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('e2e_backup_keys_pkey', ['user_id', 'version', 'room_id', 'session_id'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'e2e_backup_keys',
    'e2e_backup_versions',
    'e2e_to_device_txns',
    'e2e_to_device',
    'e2e_remote_devices',
    'e2e_remote_device_lists',
    'e2e_device_list_stream',
    'e2e_key_signatures',
    'e2e_cross_signing_keys',
    'e2e_fallback_keys',
    'e2e_one_time_keys',
    'e2e_device_keys',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop sequence e2e_to_device_stream_seq`.execute(db);
  await sql`drop sequence e2e_device_list_stream_seq`.execute(db);
}

export const migration0008E2ee: Migration = { up, down };
