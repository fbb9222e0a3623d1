// One destination's worker (Dendrite federationapi/queue/destinationqueue.go): drains the
// destination's rows in `federation_outbox`, oldest first, one transaction in flight at a
// time, at most 50 PDUs and 100 EDUs each (server-server § "Transactions"). A failure
// records the next retry time in `destinations` and the worker sleeps until then; rows are
// deleted only once the destination acknowledged them, so nothing is lost on a crash.

import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { FederationOutboxRepository, OutboxBatch } from '../../storage/federation-outbox-repository.ts';
import { RemoteMatrixError } from '../client/errors.ts';
import { retryIntervalMs, type BackoffPolicy } from './backoff.ts';
import type { SenderTimers } from './timers.ts';
import type { TransactionTransport } from './transport.ts';

export interface SenderLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface QueueLimits {
  /** "A transaction … limited to 50 PDUs and 100 EDUs" (server-server § "Transactions"). */
  readonly maxPdus: number;
  readonly maxEdus: number;
  readonly backoff: BackoffPolicy;
  /**
   * Catch-up: when a destination that was failing has more than this many PDUs queued,
   * only the newest `catchUpKeepPerRoom` of each room are sent; the receiver fetches the
   * gap with get_missing_events when it sees their prev_events.
   */
  readonly catchUpThreshold: number;
  readonly catchUpKeepPerRoom: number;
}

export interface DestinationQueueDeps {
  readonly destination: string;
  readonly origin: string;
  readonly outbox: FederationOutboxRepository;
  readonly transport: TransactionTransport;
  readonly clock: () => number;
  readonly timers: SenderTimers;
  readonly limits: QueueLimits;
  readonly logger: SenderLogger;
}

/** Statuses that mean "this transaction will never be accepted": retrying the same bytes cannot help. */
const PERMANENT_STATUSES = new Set([400, 413]);

export class DestinationQueue {
  readonly #deps: DestinationQueueDeps;
  #running: Promise<void> | undefined;
  #again = false;
  #cancelRetry: (() => void) | undefined;
  /** Set by retryNow(): the next drain ignores the backoff recorded in the table. */
  #skipBackoff = false;
  #stopped = false;
  #inFlight = false;

  constructor(deps: DestinationQueueDeps) {
    this.#deps = deps;
  }

  get destination(): string {
    return this.#deps.destination;
  }

  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** Whether a retry timer is pending (the destination is backing off). */
  get waiting(): boolean {
    return this.#cancelRetry !== undefined;
  }

  /** New rows were queued (or the queue is resuming): drain unless already draining or backing off. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#cancelRetry !== undefined) return;
    this.#running = this.#drain()
      .catch((err: unknown) => {
        // A database error: try again after the first backoff step rather than spin.
        this.#deps.logger.error({ err, destination: this.destination }, 'federation sender queue failed');
        this.#retryIn(this.#deps.limits.backoff.minMs);
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Ends the backoff early (an operator, or a request that just reached the destination). */
  retryNow(): void {
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    this.#skipBackoff = true;
    this.wake();
  }

  /** Stops after the transaction in flight, if any. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    await this.#running;
  }

  /** Resolves once the worker is not draining (it may still be backing off). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    const { outbox, destination, clock, limits } = this.#deps;
    for (;;) {
      this.#again = false;
      if (this.#stopped) return;
      const health = await outbox.destination(destination);
      const skipBackoff = this.#skipBackoff;
      this.#skipBackoff = false;
      if (health !== undefined && health.retryLastTs !== null && !skipBackoff) {
        const until = health.retryLastTs + health.retryIntervalMs;
        const now = clock();
        if (until > now) {
          this.#retryIn(until - now);
          return;
        }
      }
      if (health !== undefined && health.failureCount > 0) await this.#catchUp();
      const batch = await outbox.nextBatch(destination, limits.maxPdus, limits.maxEdus);
      if (batch.pdus.length === 0 && batch.edus.length === 0) return;
      const sent = await this.#send(batch, health?.failureCount ?? 0);
      if (!sent) return;
    }
  }

  async #catchUp(): Promise<void> {
    const { outbox, destination, limits, logger } = this.#deps;
    const queued = await outbox.queuedCount(destination);
    if (queued <= limits.catchUpThreshold) return;
    const dropped = await outbox.keepLatestPerRoom(destination, limits.catchUpKeepPerRoom);
    if (dropped > 0) {
      logger.info({ destination, queued, dropped }, 'federation catch-up: sending only the latest events of each room');
    }
  }

  /** Sends one transaction; true when the destination took it (or refused it for good). */
  async #send(batch: OutboxBatch, failures: number): Promise<boolean> {
    const { outbox, destination, transport, clock, logger, origin, limits } = this.#deps;
    const ids = [...batch.pdus.map((p) => p.id), ...batch.edus.map((e) => e.id)];
    const txnId = transactionId(ids);
    const body = {
      origin,
      origin_server_ts: clock(),
      pdus: batch.pdus.map((p) => JSON.parse(p.json) as JsonObject),
      edus: batch.edus.map((e) => JSON.parse(e.json) as JsonObject),
    };
    this.#inFlight = true;
    let response: JsonObject;
    try {
      response = await transport.sendTransaction(destination, txnId, body);
    } catch (err) {
      if (err instanceof RemoteMatrixError && PERMANENT_STATUSES.has(err.status)) {
        logger.warn({ destination, txnId, status: err.status, errcode: err.errcode }, 'transaction refused; dropping it');
        await outbox.remove(ids);
        return true;
      }
      const interval = retryIntervalMs(failures + 1, limits.backoff);
      await outbox.recordFailure(destination, clock(), interval);
      logger.info(
        { destination, txnId, failures: failures + 1, retry_in_ms: interval, err: describeError(err) },
        'transaction failed; backing off',
      );
      this.#retryIn(interval);
      return false;
    } finally {
      this.#inFlight = false;
    }
    logPduErrors(logger, destination, response);
    await outbox.acknowledge(destination, ids, clock());
    logger.debug({ destination, txnId, pdus: batch.pdus.length, edus: batch.edus.length }, 'transaction sent');
    return true;
  }

  #retryIn(delayMs: number): void {
    if (this.#stopped) return;
    this.#cancelRetry?.();
    this.#cancelRetry = this.#deps.timers.schedule(() => {
      this.#cancelRetry = undefined;
      this.wake();
    }, delayMs);
  }
}

/**
 * The transaction ID is derived from the outbox rows it carries: a retry of the same rows
 * reuses it (so the receiver can answer from its cache instead of processing twice), and row
 * IDs are never reused, so two different transactions never share one. That makes it a
 * counter persisted by the outbox itself.
 */
export function transactionId(rowIds: readonly number[]): string {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const id of rowIds) {
    min = Math.min(min, id);
    max = Math.max(max, id);
  }
  return `stoa.${min}.${max}.${rowIds.length}`;
}

function logPduErrors(logger: SenderLogger, destination: string, response: JsonObject): void {
  const pdus = response['pdus'];
  if (!isJsonObject(pdus)) return;
  for (const [eventId, result] of Object.entries(pdus)) {
    if (isJsonObject(result) && result['error'] !== undefined) {
      logger.debug({ destination, eventId, error: result['error'] }, 'destination did not accept a PDU');
    }
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
