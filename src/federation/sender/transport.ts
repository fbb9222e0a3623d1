// How the sender puts a transaction on the wire (server-server § "Transactions":
// PUT /_matrix/federation/v1/send/{txnId}). An interface so the queue logic is tested with a
// fake; the real one is the signed FederationClient.

import type { JsonObject } from '../../rooms/json.ts';
import type { FederationClient } from '../client/federation-client.ts';

export interface TransactionBody {
  readonly origin: string;
  readonly origin_server_ts: number;
  readonly pdus: readonly JsonObject[];
  readonly edus: readonly JsonObject[];
}

export interface TransactionTransport {
  /** Resolves with the receiver's response (`{pdus: {eventId: {error?}}}`); throws a FederationRequestError otherwise. */
  sendTransaction(destination: string, txnId: string, body: TransactionBody): Promise<JsonObject>;
}

export function federationClientTransport(client: Pick<FederationClient, 'put'>): TransactionTransport {
  return {
    sendTransaction: (destination, txnId, body) =>
      client.put(destination, `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`, {
        origin: body.origin,
        origin_server_ts: body.origin_server_ts,
        pdus: [...body.pdus],
        edus: [...body.edus],
      }),
  };
}
