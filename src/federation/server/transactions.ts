// PUT /_matrix/federation/v1/send/{txnId} (server-server § "Transactions",
// data/api/server-server/transactions.yaml): at most 50 PDUs and 100 EDUs; each PDU goes
// through the roomserver's checks on receipt with its room's version, PDUs of one room in
// the order sent (rooms side by side), and gets its own result; a PDU from a server the
// room's ACL denies is refused (§ "Server ACLs"). A transaction is processed once per
// (origin, txnId): a retry — concurrent or later — gets the first answer again.

import { defineEndpoint, jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { badJson } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { ReceiveResult, Roomserver } from '../../roomserver/index.ts';
import { computeEventId } from '../../rooms/event-id.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { InboundTransaction } from '../../storage/federation-inbound-repository.ts';
import type { EduDispatcher } from './edus.ts';

/** server-server § "Transactions": "at most 50 PDUs and 100 EDUs". */
export const MAX_PDUS_PER_TRANSACTION = 50;
export const MAX_EDUS_PER_TRANSACTION = 100;
/** A sender retries a transaction until it sees our 200; a day covers any sane retry. */
export const INBOUND_TRANSACTION_RETENTION_MS = 24 * 3600_000;
const PRUNE_INTERVAL_MS = 3600_000;

export interface InboundTransactionStore {
  find(origin: string, txnId: string): Promise<InboundTransaction | undefined>;
  record(txn: InboundTransaction): Promise<InboundTransaction>;
  pruneReceivedBefore(ts: number): Promise<number>;
}

export interface TransactionProcessorDeps {
  readonly roomserver: Pick<Roomserver, 'receivePdu' | 'roomVersion'>;
  readonly acl: { aclAllows(roomId: string, serverName: string): Promise<boolean> };
  readonly edus: Pick<EduDispatcher, 'dispatch'>;
  readonly store: InboundTransactionStore;
  readonly logger: Logger;
  readonly clock: () => number;
}

export interface TransactionBody extends JsonObject {
  pdus: JsonValue[];
  edus?: JsonValue[];
}

/** The `pdus` of the response: event ID → `{}` or `{ error }`. */
export type PduResults = Record<string, { error?: string }>;

export class TransactionProcessor {
  readonly #deps: TransactionProcessorDeps;
  /** Transactions being processed here, so a retry that arrives meanwhile waits for the first. */
  readonly #inFlight = new Map<string, Promise<JsonObject>>();
  #lastPrune = 0;

  constructor(deps: TransactionProcessorDeps) {
    this.#deps = deps;
  }

  receive(origin: string, txnId: string, body: TransactionBody): Promise<JsonObject> {
    const key = `${origin}\u0000${txnId}`;
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const work = this.#receiveOnce(origin, txnId, body).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, work);
    return work;
  }

  async #receiveOnce(origin: string, txnId: string, body: TransactionBody): Promise<JsonObject> {
    const { store, logger, clock } = this.#deps;
    const earlier = await store.find(origin, txnId);
    if (earlier !== undefined) {
      logger.info({ origin, txn_id: txnId }, 'transaction already processed; sending the earlier response');
      return JSON.parse(earlier.responseJson) as JsonObject;
    }
    const started = clock();
    const pdus = await this.#processPdus(origin, body.pdus);
    await this.#deps.edus.dispatch(origin, body.edus ?? []);
    const response: JsonObject = { pdus };
    const recorded = await store.record({ origin, txnId, responseJson: JSON.stringify(response), receivedTs: started });
    logger.info(
      { origin, txn_id: txnId, pdus: body.pdus.length, edus: body.edus?.length ?? 0, duration_ms: clock() - started },
      'transaction processed',
    );
    await this.#maybePrune(started);
    return JSON.parse(recorded.responseJson) as JsonObject;
  }

  async #processPdus(origin: string, pdus: readonly JsonValue[]): Promise<PduResults> {
    // One queue per room, in transaction order; rooms are independent of each other.
    const byRoom = new Map<string, JsonObject[]>();
    for (const pdu of pdus) {
      const roomId = isJsonObject(pdu) ? getField(pdu, 'room_id') : undefined;
      if (!isJsonObject(pdu) || typeof roomId !== 'string') {
        // Without a room there is no room version, so no event ID to report a result under.
        this.#deps.logger.info({ origin }, 'PDU ignored: not an object with a room_id');
        continue;
      }
      const queue = byRoom.get(roomId) ?? [];
      queue.push(pdu);
      byRoom.set(roomId, queue);
    }
    const results: PduResults = {};
    await Promise.all(
      [...byRoom].map(async ([roomId, queue]) => {
        for (const pdu of queue) {
          const outcome = await this.#processPdu(origin, roomId, pdu);
          if (outcome.eventId !== undefined) results[outcome.eventId] = outcome.result;
        }
      }),
    );
    return results;
  }

  async #processPdu(origin: string, roomId: string, pdu: JsonObject): Promise<{ eventId: string | undefined; result: { error?: string } }> {
    const { roomserver, acl, logger } = this.#deps;
    const roomVersion = await roomserver.roomVersion(roomId);
    const rules = roomVersion === undefined ? undefined : roomVersionRules(roomVersion);
    if (roomVersion === undefined || rules === undefined) {
      // v1–v2 PDUs carry their ID; later ones need the room version to compute it.
      const claimed = getField(pdu, 'event_id');
      logger.info({ origin, room_id: roomId, event_id: claimed }, 'PDU refused: unknown room');
      return { eventId: typeof claimed === 'string' ? claimed : undefined, result: { error: `Unknown room ${roomId}` } };
    }
    let eventId: string | undefined;
    try {
      eventId = computeEventId(pdu, rules);
    } catch {
      eventId = undefined;
    }
    if (!(await acl.aclAllows(roomId, origin))) {
      return { eventId, result: { error: 'Server is denied by the room server ACL' } };
    }
    const received = await roomserver.receivePdu(pdu, origin, { roomVersion });
    const result = resultOf(received);
    if (result.error !== undefined) {
      logger.info({ origin, room_id: roomId, event_id: received.eventId ?? eventId, outcome: received.outcome, check: received.check, rule: received.rule, reason: received.reason }, 'PDU not accepted');
    } else if (received.redactedForHash === true) {
      logger.info({ origin, room_id: roomId, event_id: received.eventId }, 'PDU content hash mismatch: stored redacted');
    }
    return { eventId: received.eventId ?? eventId, result };
  }

  async #maybePrune(now: number): Promise<void> {
    if (now - this.#lastPrune < PRUNE_INTERVAL_MS) return;
    this.#lastPrune = now;
    try {
      await this.#deps.store.pruneReceivedBefore(now - INBOUND_TRANSACTION_RETENTION_MS);
    } catch (err) {
      this.#deps.logger.warn({ err }, 'pruning old inbound transactions failed');
    }
  }
}

/** Accepted, soft-failed (accepted but not current state), outlier and already-known PDUs are successes. */
export function resultOf(received: ReceiveResult): { error?: string } {
  switch (received.outcome) {
    case 'accepted':
    case 'soft-failed':
    case 'outlier':
    case 'duplicate':
      return {};
    case 'rejected':
      return { error: `Event rejected by the auth rules${received.rule === undefined ? '' : ` (rule ${received.rule})`}: ${received.reason ?? 'not allowed'}` };
    case 'dropped':
      return { error: `Event dropped (check ${received.check ?? '?'}): ${received.reason ?? 'invalid'}` };
  }
}

const transactionSchema = {
  type: 'object',
  required: ['pdus'],
  properties: {
    origin: { type: 'string' },
    origin_server_ts: { type: 'integer' },
    pdus: { type: 'array' },
    edus: { type: 'array' },
  },
};

export function transactionEndpoints(processor: TransactionProcessor): Endpoint[] {
  return [
    defineEndpoint({
      method: 'PUT',
      path: '/_matrix/federation/v1/send/:txnId',
      auth: 'federation',
      operationId: 'sendTransaction',
      body: jsonBody<TransactionBody>(transactionSchema),
      handler: async ({ params, body, auth }) => {
        if (body.pdus.length > MAX_PDUS_PER_TRANSACTION) {
          throw badJson(`A transaction may hold at most ${MAX_PDUS_PER_TRANSACTION} PDUs`);
        }
        if ((body.edus?.length ?? 0) > MAX_EDUS_PER_TRANSACTION) {
          throw badJson(`A transaction may hold at most ${MAX_EDUS_PER_TRANSACTION} EDUs`);
        }
        const claimed = getField(body, 'origin');
        if (claimed !== undefined && claimed !== auth.serverName) {
          throw badJson('The transaction origin is not the server that signed the request');
        }
        return processor.receive(auth.serverName, params['txnId'] ?? '', body);
      },
    }),
  ];
}
