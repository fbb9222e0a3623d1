// Incoming webhooks (issue 10 item 3; migration 0019): each bound to a room and a local
// sender, its secret stored only as a SHA-256 hash.

import type { Kysely, Selectable } from 'kysely';
import type { Database, WebhooksTable } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface StoredWebhook {
  readonly webhookId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly name: string;
  readonly secretHash: string;
  readonly createdBy: string;
  readonly createdTs: number;
  readonly revokedTs: number | null;
  readonly lastUsedTs: number | null;
}

export class WebhooksRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async insert(webhook: Omit<StoredWebhook, 'revokedTs' | 'lastUsedTs'>): Promise<void> {
    await this.#db
      .insertInto('webhooks')
      .values({
        webhook_id: webhook.webhookId,
        room_id: webhook.roomId,
        sender: webhook.sender,
        name: webhook.name,
        secret_hash: webhook.secretHash,
        created_by: webhook.createdBy,
        created_ts: webhook.createdTs,
      })
      .execute();
  }

  async find(webhookId: string): Promise<StoredWebhook | undefined> {
    const row = await this.#db.selectFrom('webhooks').selectAll().where('webhook_id', '=', webhookId).executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Every webhook, oldest first; revoked ones only when asked for. */
  async list(includeRevoked: boolean): Promise<StoredWebhook[]> {
    let query = this.#db.selectFrom('webhooks').selectAll().orderBy('created_ts').orderBy('webhook_id');
    if (!includeRevoked) query = query.where('revoked_ts', 'is', null);
    return (await query.execute()).map(fromRow);
  }

  /** Revokes a webhook; false when it is unknown or already revoked. */
  async revoke(webhookId: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhooks')
      .set({ revoked_ts: now })
      .where('webhook_id', '=', webhookId)
      .where('revoked_ts', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordUse(webhookId: string, now: number): Promise<void> {
    await this.#db.updateTable('webhooks').set({ last_used_ts: now }).where('webhook_id', '=', webhookId).execute();
  }
}

function fromRow(row: Selectable<WebhooksTable>): StoredWebhook {
  return {
    webhookId: row.webhook_id,
    roomId: row.room_id,
    sender: row.sender,
    name: row.name,
    secretHash: row.secret_hash,
    createdBy: row.created_by,
    createdTs: row.created_ts,
    revokedTs: row.revoked_ts,
    lastUsedTs: row.last_used_ts,
  };
}
