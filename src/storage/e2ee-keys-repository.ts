// End-to-end encryption keys (client-server § "End-to-End Encryption" › "Key management
// API", § "Cross-signing"): local devices' identity keys, one-time and fallback keys,
// cross-signing keys (local users' and cached remote ones) and uploaded signatures. JSON is
// stored as text; callers validate it before it gets here.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredDeviceKeys {
  readonly userId: string;
  readonly deviceId: string;
  readonly keyJson: string;
}

export interface NewOneTimeKey {
  readonly algorithm: string;
  readonly keyId: string;
  readonly keyJson: string;
}

export interface ClaimedKey {
  /** `<algorithm>:<key id>`. */
  readonly keyId: string;
  readonly keyJson: string;
}

export interface StoredCrossSigningKey {
  readonly userId: string;
  readonly keyType: string;
  readonly publicKey: string;
  readonly keyJson: string;
}

export interface StoredSignature {
  readonly targetUserId: string;
  readonly targetKeyId: string;
  readonly signerUserId: string;
  readonly signerKeyId: string;
  readonly signature: string;
}

export class E2eeKeysRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  // --- device keys ---

  /** Stores a device's keys; false when exactly this JSON was stored already. */
  async setDeviceKeys(userId: string, deviceId: string, keyJson: string, now: number): Promise<boolean> {
    const existing = await this.#db
      .selectFrom('e2e_device_keys')
      .select('key_json')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    if (existing?.key_json === keyJson) return false;
    await this.#db
      .insertInto('e2e_device_keys')
      .values({ user_id: userId, device_id: deviceId, key_json: keyJson, updated_ts: now })
      .onConflict((oc) => oc.columns(['user_id', 'device_id']).doUpdateSet({ key_json: keyJson, updated_ts: now }))
      .execute();
    return true;
  }

  async findDeviceKeys(userId: string, deviceId: string): Promise<StoredDeviceKeys | undefined> {
    const row = await this.#db
      .selectFrom('e2e_device_keys')
      .select(['user_id', 'device_id', 'key_json'])
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row === undefined ? undefined : { userId: row.user_id, deviceId: row.device_id, keyJson: row.key_json };
  }

  /** The stored keys of `userIds`' devices (all devices of each user). */
  async deviceKeysOf(userIds: readonly string[]): Promise<StoredDeviceKeys[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('e2e_device_keys')
      .select(['user_id', 'device_id', 'key_json'])
      .where('user_id', 'in', [...userIds])
      .orderBy('user_id')
      .orderBy('device_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id, keyJson: r.key_json }));
  }

  /** Everything stored for a device that is gone: its keys and the signatures on them. */
  async deleteDevice(userId: string, deviceId: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('e2e_device_keys').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
      await trx.deleteFrom('e2e_one_time_keys').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
      await trx.deleteFrom('e2e_fallback_keys').where('user_id', '=', userId).where('device_id', '=', deviceId).execute();
      await trx.deleteFrom('e2e_key_signatures').where('target_user_id', '=', userId).where('target_key_id', '=', deviceId).execute();
    });
  }

  // --- one-time keys ---

  /**
   * Adds one-time keys. A key ID the device already uploaded with different content is a
   * conflict: nothing is stored and the conflicting IDs (`<algorithm>:<id>`) are returned.
   * Re-uploading identical keys is a no-op (a client retrying a lost response).
   */
  async addOneTimeKeys(userId: string, deviceId: string, keys: readonly NewOneTimeKey[], now: number): Promise<string[]> {
    if (keys.length === 0) return [];
    return this.#db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('e2e_one_time_keys')
        .select(['algorithm', 'key_id', 'key_json'])
        .where('user_id', '=', userId)
        .where('device_id', '=', deviceId)
        .where('key_id', 'in', keys.map((k) => k.keyId))
        .execute();
      const stored = new Map(existing.map((r) => [`${r.algorithm}:${r.key_id}`, r.key_json]));
      const conflicts = keys.filter((k) => {
        const json = stored.get(`${k.algorithm}:${k.keyId}`);
        return json !== undefined && json !== k.keyJson;
      });
      if (conflicts.length > 0) return conflicts.map((k) => `${k.algorithm}:${k.keyId}`);
      await trx
        .insertInto('e2e_one_time_keys')
        .values(
          keys.map((k) => ({
            user_id: userId,
            device_id: deviceId,
            algorithm: k.algorithm,
            key_id: k.keyId,
            key_json: k.keyJson,
            uploaded_ts: now,
          })),
        )
        .onConflict((oc) => oc.columns(['user_id', 'device_id', 'algorithm', 'key_id']).doNothing())
        .execute();
      return [];
    });
  }

  /** Unclaimed one-time keys of a device, by algorithm. */
  async countOneTimeKeys(userId: string, deviceId: string): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom('e2e_one_time_keys')
      .select(['algorithm', (eb) => eb.fn.countAll<string | number>().as('n')])
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .groupBy('algorithm')
      .execute();
    const counts: Record<string, number> = {};
    for (const row of rows) counts[row.algorithm] = Number(row.n);
    return counts;
  }

  /**
   * Hands out one one-time key and deletes it, in one statement. `skip locked` makes a
   * concurrent claimer take another row instead of waiting for (and then also getting) this
   * one, so no key is ever handed out twice.
   */
  async claimOneTimeKey(userId: string, deviceId: string, algorithm: string): Promise<ClaimedKey | undefined> {
    const { rows } = await sql<{ key_id: string; key_json: string }>`
      delete from e2e_one_time_keys
      where (user_id, device_id, algorithm, key_id) in (
        select user_id, device_id, algorithm, key_id from e2e_one_time_keys
        where user_id = ${userId} and device_id = ${deviceId} and algorithm = ${algorithm}
        order by key_id
        limit 1
        for update skip locked)
      returning key_id, key_json`.execute(this.#db);
    const row = rows[0];
    return row === undefined ? undefined : { keyId: `${algorithm}:${row.key_id}`, keyJson: row.key_json };
  }

  // --- fallback keys ---

  /** Sets the device's fallback key for `algorithm`; a new key starts unused. */
  async setFallbackKey(userId: string, deviceId: string, key: NewOneTimeKey): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('e2e_fallback_keys')
        .select(['key_id', 'key_json'])
        .where('user_id', '=', userId)
        .where('device_id', '=', deviceId)
        .where('algorithm', '=', key.algorithm)
        .executeTakeFirst();
      // The same key uploaded again keeps its `used` flag, so a retry does not revive it.
      if (existing !== undefined && existing.key_id === key.keyId && existing.key_json === key.keyJson) return;
      await trx
        .insertInto('e2e_fallback_keys')
        .values({ user_id: userId, device_id: deviceId, algorithm: key.algorithm, key_id: key.keyId, key_json: key.keyJson, used: false })
        .onConflict((oc) =>
          oc.columns(['user_id', 'device_id', 'algorithm']).doUpdateSet({ key_id: key.keyId, key_json: key.keyJson, used: false }),
        )
        .execute();
    });
  }

  /** The fallback key for `algorithm` (marked used), or undefined when the device has none. */
  async claimFallbackKey(userId: string, deviceId: string, algorithm: string): Promise<ClaimedKey | undefined> {
    const row = await this.#db
      .updateTable('e2e_fallback_keys')
      .set({ used: true })
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('algorithm', '=', algorithm)
      .returning(['key_id', 'key_json'])
      .executeTakeFirst();
    return row === undefined ? undefined : { keyId: `${algorithm}:${row.key_id}`, keyJson: row.key_json };
  }

  /** The algorithms of the device's fallback keys not handed out yet. */
  async unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('e2e_fallback_keys')
      .select('algorithm')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('used', '=', false)
      .orderBy('algorithm')
      .execute();
    return rows.map((r) => r.algorithm);
  }

  // --- cross-signing keys and signatures ---

  async crossSigningKeysOf(userIds: readonly string[]): Promise<StoredCrossSigningKey[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('e2e_cross_signing_keys')
      .select(['user_id', 'key_type', 'public_key', 'key_json'])
      .where('user_id', 'in', [...userIds])
      .execute();
    return rows.map((r) => ({ userId: r.user_id, keyType: r.key_type, publicKey: r.public_key, keyJson: r.key_json }));
  }

  /** Replaces the given cross-signing keys of a user in one transaction. */
  async setCrossSigningKeys(userId: string, keys: ReadonlyArray<{ keyType: string; publicKey: string; keyJson: string }>, now: number): Promise<void> {
    if (keys.length === 0) return;
    await this.#db.transaction().execute(async (trx) => {
      for (const key of keys) {
        await trx
          .insertInto('e2e_cross_signing_keys')
          .values({ user_id: userId, key_type: key.keyType, public_key: key.publicKey, key_json: key.keyJson, updated_ts: now })
          .onConflict((oc) =>
            oc.columns(['user_id', 'key_type']).doUpdateSet({ public_key: key.publicKey, key_json: key.keyJson, updated_ts: now }),
          )
          .execute();
      }
    });
  }

  async addSignatures(signatures: readonly StoredSignature[]): Promise<void> {
    if (signatures.length === 0) return;
    await this.#db
      .insertInto('e2e_key_signatures')
      .values(
        signatures.map((s) => ({
          target_user_id: s.targetUserId,
          target_key_id: s.targetKeyId,
          signer_user_id: s.signerUserId,
          signer_key_id: s.signerKeyId,
          signature: s.signature,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['target_user_id', 'target_key_id', 'signer_user_id', 'signer_key_id']).doUpdateSet((eb) => ({
          signature: eb.ref('excluded.signature'),
        })),
      )
      .execute();
  }

  /** Uploaded signatures on keys of `targetUserIds`. */
  async signaturesOn(targetUserIds: readonly string[]): Promise<StoredSignature[]> {
    if (targetUserIds.length === 0) return [];
    const rows = await this.#db.selectFrom('e2e_key_signatures').selectAll().where('target_user_id', 'in', [...targetUserIds]).execute();
    return rows.map((r) => ({
      targetUserId: r.target_user_id,
      targetKeyId: r.target_key_id,
      signerUserId: r.signer_user_id,
      signerKeyId: r.signer_key_id,
      signature: r.signature,
    }));
  }
}
