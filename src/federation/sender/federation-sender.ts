// The durable outbound federation sender (issue 5 item 6). Every event that originated
// here is queued by the roomserver, in the event's own transaction, as a row pointing at
// the event in `federation_outbox` for each server with joined members in the room (and the
// target's server of a membership event, so an invitee or a kicked user hears of it); the
// announced event names those servers, and the sender wakes their queues. One
// DestinationQueue per destination drains the rows. A restart resumes from the table.

import type { JsonObject } from '../../rooms/json.ts';
import type { NewEventListener, NewRoomEvent } from '../../roomserver/index.ts';
import type { Cluster } from '../../storage/cluster/cluster.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { FederationOutboxRepository } from '../../storage/federation-outbox-repository.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { DestinationQueue, type QueueLimits, type SenderLogger } from './destination-queue.ts';
import { realTimers, type SenderTimers } from './timers.ts';
import type { TransactionTransport } from './transport.ts';

/** What the sender reads from the roomserver. */
export interface SenderRoomSource {
  onNewEvent(listener: NewEventListener): () => void;
}

export interface FederationSenderOptions {
  readonly db: StoaDatabase;
  readonly serverName: string;
  readonly rooms: SenderRoomSource;
  readonly transport: TransactionTransport;
  readonly logger: SenderLogger;
  readonly clock?: () => number;
  readonly timers?: SenderTimers;
  readonly limits?: Partial<QueueLimits>;
  /**
   * Several processes on one database (DESIGN.md "Scale"): whether this one sends at all,
   * and which destinations (those whose name hashes to `index` of `instances`). The others
   * only queue rows and tell the senders over the cluster bus. Default: sends everything.
   */
  readonly sending?: { readonly enabled: boolean; readonly index: number; readonly instances: number };
  readonly cluster?: Cluster;
  /** How often a sender looks for rows queued without a word on the bus (ms). Default 10 s. */
  readonly pollMs?: number;
}

/** The cluster channel on which processes that queue rows wake the process that sends them. */
const OUTBOX_CHANNEL = 'outbox';

/** Which of `instances` federation senders sends to `destination` (FNV-1a of its name). */
export function senderShardOf(destination: string, instances: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < destination.length; i++) {
    hash ^= destination.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % instances;
}

export const DEFAULT_LIMITS: QueueLimits = {
  maxPdus: 50,
  maxEdus: 100,
  backoff: DEFAULT_BACKOFF,
  catchUpThreshold: 50,
  catchUpKeepPerRoom: 1,
};

/** An EDU as sent in a transaction (server-server § "EDUs"). */
export interface OutgoingEdu {
  readonly edu_type: string;
  readonly content: JsonObject;
}

/** The health view of one destination. */
export interface DestinationHealth {
  readonly destination: string;
  readonly queued: number;
  readonly failureCount: number;
  readonly lastSuccessTs: number | null;
  readonly lastFailureTs: number | null;
  /** Until when no transaction is attempted (ms); null when not backing off. */
  readonly backoffUntilTs: number | null;
  readonly inFlight: boolean;
}

export class FederationSender {
  readonly #options: FederationSenderOptions;
  readonly #outbox: FederationOutboxRepository;
  readonly #clock: () => number;
  readonly #limits: QueueLimits;
  readonly #timers: SenderTimers;
  readonly #queues = new Map<string, DestinationQueue>();
  #unsubscribe: (() => void) | undefined;
  #unsubscribeCluster: (() => void) | undefined;
  #poll: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: FederationSenderOptions) {
    this.#options = options;
    this.#outbox = new FederationOutboxRepository(options.db);
    this.#clock = options.clock ?? Date.now;
    this.#timers = options.timers ?? realTimers;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /** Subscribes to new events and resumes every destination that still has queued rows. */
  async start(): Promise<void> {
    this.#unsubscribe ??= this.#options.rooms.onNewEvent((event) => this.#onNewEvent(event));
    if (!this.#sends) return;
    this.#unsubscribeCluster ??= this.#options.cluster?.onAttachment(OUTBOX_CHANNEL, (item) => {
      if (typeof item === 'string' && this.#mine(item)) this.#wake(item);
    });
    if (this.#options.cluster?.shared === true && this.#poll === undefined) {
      // A word on the bus can be lost (a dropped connection): rows never are.
      this.#poll = setInterval(() => void this.#resume(), this.#options.pollMs ?? 10_000);
      this.#poll.unref();
    }
    await this.#resume();
  }

  get #sends(): boolean {
    return this.#options.sending?.enabled ?? true;
  }

  #mine(destination: string): boolean {
    const sending = this.#options.sending;
    if (sending === undefined) return true;
    return sending.enabled && senderShardOf(destination, sending.instances) === sending.index;
  }

  async #resume(): Promise<void> {
    try {
      for (const destination of await this.#outbox.pendingDestinations()) if (this.#mine(destination)) this.#wake(destination);
    } catch (err) {
      this.#options.logger.error({ err }, 'could not read the federation queue');
    }
  }

  /** Stops taking events and waits for the transactions in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unsubscribeCluster?.();
    if (this.#poll !== undefined) clearInterval(this.#poll);
    await Promise.all([...this.#queues.values()].map((q) => q.stop()));
  }

  /**
   * Sends `eventId` (already stored) to `destinations`, except ourselves. For events that did
   * not originate here but that we must pass on: a join, leave or knock a remote server
   * handed us through send_join / send_leave / send_knock.
   */
  async sendEvent(eventId: string, destinations: Iterable<string>): Promise<void> {
    const targets = [...new Set(destinations)].filter((d) => d !== this.#options.serverName);
    if (targets.length === 0) return;
    await this.#outbox.enqueuePdu(targets, eventId, this.#clock());
    for (const destination of targets) this.#wake(destination);
  }

  /** Queues an EDU (typing, receipts, to-device, device lists) for one destination. */
  async enqueueEdu(destination: string, edu: OutgoingEdu): Promise<void> {
    if (destination === this.#options.serverName) return;
    await this.#outbox.enqueueEdu(destination, JSON.stringify({ edu_type: edu.edu_type, content: edu.content }), this.#clock());
    this.#wake(destination);
  }

  /** Per destination: queued rows, failures, last success, backoff, whether a transaction is in flight. */
  async health(): Promise<DestinationHealth[]> {
    const counts = await this.#outbox.queuedCounts();
    const rows = await this.#outbox.destinations();
    const names = new Set([...counts.keys(), ...rows.map((r) => r.destination)]);
    const byName = new Map(rows.map((r) => [r.destination, r]));
    return [...names].sort().map((destination) => {
      const row = byName.get(destination);
      const backoffUntil = row?.retryLastTs == null ? null : row.retryLastTs + row.retryIntervalMs;
      return {
        destination,
        queued: counts.get(destination) ?? 0,
        failureCount: row?.failureCount ?? 0,
        lastSuccessTs: row?.lastSuccessTs ?? null,
        lastFailureTs: row?.retryLastTs ?? null,
        backoffUntilTs: backoffUntil !== null && backoffUntil > this.#clock() ? backoffUntil : null,
        inFlight: this.#queues.get(destination)?.inFlight ?? false,
      };
    });
  }

  /** Ends a destination's backoff now (a request from it just arrived, or an operator asked). */
  retryNow(destination: string): void {
    this.#queues.get(destination)?.retryNow();
  }

  /**
   * A request from `destination` just arrived, so it is up again: a queue backing off from
   * it retries now rather than at the end of its (possibly long) backoff.
   */
  heardFrom(destination: string): void {
    const queue = this.#queues.get(destination);
    if (queue?.waiting === true) queue.retryNow();
  }

  /** For tests and shutdown: resolves once no worker is draining. */
  async idle(): Promise<void> {
    for (const queue of this.#queues.values()) await queue.idle();
  }

  #onNewEvent(event: NewRoomEvent): void {
    if (this.#stopped || event.origin !== this.#options.serverName) return;
    // Queued with the event, in its transaction (by whichever process wrote it): wake them.
    for (const destination of event.queuedFor ?? []) if (this.#mine(destination)) this.#wake(destination);
  }

  /** Rows queued after stop() stay in the table for the next start. */
  #wake(destination: string): void {
    if (this.#stopped) return;
    if (this.#mine(destination)) this.#queue(destination).wake();
    // The process that sends to it hears once what is queued now has committed.
    else this.#options.cluster?.attach(OUTBOX_CHANNEL, destination);
  }

  #queue(destination: string): DestinationQueue {
    let queue = this.#queues.get(destination);
    if (queue === undefined) {
      queue = new DestinationQueue({
        destination,
        origin: this.#options.serverName,
        outbox: this.#outbox,
        transport: this.#options.transport,
        clock: this.#clock,
        timers: this.#timers,
        limits: this.#limits,
        logger: this.#options.logger,
      });
      this.#queues.set(destination, queue);
    }
    return queue;
  }
}
