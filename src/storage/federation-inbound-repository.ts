// Transactions received over federation (server-server § "Transactions"), per origin, with
// the response we gave: a retried PUT /send/{txnId} gets the same answer and no second
// processing. This file only stores and finds; the endpoint decides what a retry is.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface InboundTransaction {
  readonly origin: string;
  readonly txnId: string;
  /** The JSON response body, as sent. */
  readonly responseJson: string;
  readonly receivedTs: number;
}

export class FederationInboundRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(origin: string, txnId: string): Promise<InboundTransaction | undefined> {
    const row = await this.#db
      .selectFrom('federation_inbound_transactions')
      .selectAll()
      .where('origin', '=', origin)
      .where('txn_id', '=', txnId)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { origin: row.origin, txnId: row.txn_id, responseJson: row.response_json, receivedTs: row.received_ts };
  }

  /**
   * Records a processed transaction. Another process that finished the same transaction
   * first wins: its response is kept and returned, so both answer the sender alike.
   */
  async record(txn: InboundTransaction): Promise<InboundTransaction> {
    // The record only spares a retry its reprocessing (its PDUs are recognised by ID anyway):
    // its commit does not wait for the disk, which would delay every delivery.
    return this.#db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit to off`.execute(trx);
      const inserted = await trx
        .insertInto('federation_inbound_transactions')
        .values({ origin: txn.origin, txn_id: txn.txnId, response_json: txn.responseJson, received_ts: txn.receivedTs })
        .onConflict((oc) => oc.columns(['origin', 'txn_id']).doNothing())
        .returning('txn_id')
        .executeTakeFirst();
      if (inserted !== undefined) return txn;
      return (await new FederationInboundRepository(trx).find(txn.origin, txn.txnId)) ?? txn;
    });
  }

  /** Forgets transactions received before `ts`; returns how many. */
  async pruneReceivedBefore(ts: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('federation_inbound_transactions')
      .where('received_ts', '<', ts)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
