// A user's devices (client-server API § "Device Management"). Deleting a device deletes its
// access and refresh tokens by foreign-key cascade (migrations 0001 and 0003).

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly displayName: string | null;
  readonly createdTs: number;
  readonly lastSeenTs: number | null;
  readonly lastSeenIp: string | null;
}

export interface NewDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly displayName: string | null;
  readonly createdTs: number;
}

export class DevicesRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Creates the device unless the user has one with that ID; true when it was created. */
  async createIfAbsent(device: NewDevice): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('devices')
      .values({
        user_id: device.userId,
        device_id: device.deviceId,
        display_name: device.displayName,
        created_ts: device.createdTs,
      })
      .onConflict((oc) => oc.columns(['user_id', 'device_id']).doNothing())
      .returning('device_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async find(userId: string, deviceId: string): Promise<StoredDevice | undefined> {
    const row = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Every device of `userId`, by device ID. */
  async list(userId: string): Promise<StoredDevice[]> {
    const rows = await this.#db.selectFrom('devices').selectAll().where('user_id', '=', userId).orderBy('device_id').execute();
    return rows.map(fromRow);
  }

  /** Sets the display name; false when the user has no such device. */
  async rename(userId: string, deviceId: string, displayName: string): Promise<boolean> {
    const updated = await this.#db
      .updateTable('devices')
      .set({ display_name: displayName })
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .returning('device_id')
      .executeTakeFirst();
    return updated !== undefined;
  }

  /** Deletes the listed devices (and so their tokens); returns the IDs that existed. */
  async delete(userId: string, deviceIds: readonly string[]): Promise<string[]> {
    if (deviceIds.length === 0) return [];
    const rows = await this.#db
      .deleteFrom('devices')
      .where('user_id', '=', userId)
      .where('device_id', 'in', [...deviceIds])
      .returning('device_id')
      .execute();
    return rows.map((r) => r.device_id);
  }

  /** Deletes every device of `userId` except `keep` (when given); returns the deleted IDs. */
  async deleteAllExcept(userId: string, keep: string | undefined): Promise<string[]> {
    let query = this.#db.deleteFrom('devices').where('user_id', '=', userId);
    if (keep !== undefined) query = query.where('device_id', '<>', keep);
    const rows = await query.returning('device_id').execute();
    return rows.map((r) => r.device_id);
  }

  async recordSeen(userId: string, deviceId: string, ts: number, ip: string | null): Promise<void> {
    await this.#db
      .updateTable('devices')
      .set(ip === null ? { last_seen_ts: ts } : { last_seen_ts: ts, last_seen_ip: ip })
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .execute();
  }
}

function fromRow(row: {
  user_id: string;
  device_id: string;
  display_name: string | null;
  created_ts: number;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
}): StoredDevice {
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    displayName: row.display_name,
    createdTs: row.created_ts,
    lastSeenTs: row.last_seen_ts,
    lastSeenIp: row.last_seen_ip,
  };
}
