// The per-application-service transaction queue (application-service API § "Pushing
// events"; migration 0016). Rows are queued in stream order together with the service's
// stream position, grouped into a transaction once (the lowest pending rows, `txn_id` =
// the highest row ID among them, which is unique and increasing per service), resent as
// that same group until acknowledged, then deleted.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import { EventConsumersRepository } from './event-consumers-repository.ts';

export interface QueuedItem {
  readonly kind: 'event' | 'ephemeral';
  /** JSON object text, as it is sent. */
  readonly json: string;
}

export interface AppServiceTransaction {
  readonly txnId: number;
  readonly items: readonly QueuedItem[];
}

export class AppServiceRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Queues `items` for `appserviceId` and moves its stream consumer to `position`, in one
   * database transaction: after a crash either both happened or neither did.
   */
  async enqueue(appserviceId: string, items: readonly QueuedItem[], consumer: string, position: number, now: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      if (items.length > 0) {
        await trx
          .insertInto('appservice_queue')
          .values(items.map((item) => ({ appservice_id: appserviceId, kind: item.kind, json: item.json, txn_id: null, created_ts: now })))
          .execute();
      }
      await new EventConsumersRepository(trx).setPosition(consumer, position);
    });
  }

  /** Queues ephemeral data (no stream position of its own). */
  async enqueueEphemeral(appserviceId: string, items: readonly string[], now: number): Promise<void> {
    if (items.length === 0) return;
    await this.#db
      .insertInto('appservice_queue')
      .values(items.map((json) => ({ appservice_id: appserviceId, kind: 'ephemeral' as const, json, txn_id: null, created_ts: now })))
      .execute();
  }

  /**
   * The transaction to send next: the one already formed and not yet acknowledged, or else
   * a new one of up to `limit` of the oldest queued rows; undefined when nothing is queued.
   */
  async nextTransaction(appserviceId: string, limit: number): Promise<AppServiceTransaction | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const open = await trx
        .selectFrom('appservice_queue')
        .select('txn_id')
        .where('appservice_id', '=', appserviceId)
        .where('txn_id', 'is not', null)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      let txnId = open?.txn_id ?? undefined;
      if (txnId === undefined) {
        const pending = await trx
          .selectFrom('appservice_queue')
          .select('id')
          .where('appservice_id', '=', appserviceId)
          .where('txn_id', 'is', null)
          .orderBy('id')
          .limit(limit)
          .execute();
        const last = pending.at(-1)?.id;
        if (last === undefined) return undefined;
        await trx
          .updateTable('appservice_queue')
          .set({ txn_id: last })
          .where('appservice_id', '=', appserviceId)
          .where('txn_id', 'is', null)
          .where('id', '<=', last)
          .execute();
        txnId = last;
      }
      const rows = await trx
        .selectFrom('appservice_queue')
        .select(['kind', 'json'])
        .where('appservice_id', '=', appserviceId)
        .where('txn_id', '=', txnId)
        .orderBy('id')
        .execute();
      return { txnId, items: rows.map((r) => ({ kind: r.kind, json: r.json })) };
    });
  }

  /** The service acknowledged `txnId`: its rows are done. */
  async completeTransaction(appserviceId: string, txnId: number): Promise<void> {
    await this.#db.deleteFrom('appservice_queue').where('appservice_id', '=', appserviceId).where('txn_id', '=', txnId).execute();
  }

  /** How many rows wait for `appserviceId` (metrics, tests). */
  async pendingCount(appserviceId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('appservice_queue')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('appservice_id', '=', appserviceId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
