// Pushes events to application services (application-service API § "Pushing events").
//
// Each service reads the room-event stream from its own stored position
// (`event_consumer_positions`, `appservice:<id>`), woken by the roomserver's output. The
// events it is interested in are queued in `appservice_queue` in the same database
// transaction as the new position, so a restart neither loses nor repeats one. The queue is
// sent as `PUT /_matrix/app/v1/transactions/{txnId}`, one transaction in flight per service,
// in stream order; a failure is retried with the same transaction ID and the same events
// after an exponential backoff (doubling from `baseBackoffMs` up to `maxBackoffMs`).
//
// "Interested" (§ "Registration"): the sender or the state key of a membership event is one
// of the service's users, the room ID is in its room namespaces, one of the room's aliases
// is in its alias namespaces, or one of its users is joined to the room.

import type { Logger } from '../logger.ts';
import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';
import type { Roomserver } from '../roomserver/index.ts';
import { AliasesRepository } from '../storage/aliases-repository.ts';
import { AppServiceRepository, type QueuedItem } from '../storage/appservice-repository.ts';
import { EventConsumersRepository, type StreamEventRow } from '../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { receiptEdu, typingEdu, type EphemeralSources, type ReceiptNotice } from './ephemeral.ts';
import { toAppServiceEvent } from './event-format.ts';
import type { AppServiceRegistration } from './registration.ts';
import type { AppServices } from './service.ts';

export interface TransactionWorkerOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly services: AppServices;
  readonly logger: Logger;
  readonly clock: () => number;
  /** First retry delay after a failed transaction. Default 1 s. */
  readonly baseBackoffMs?: number;
  /** Default 5 minutes. */
  readonly maxBackoffMs?: number;
  /** Events per transaction at most. Default 100. */
  readonly maxEventsPerTransaction?: number;
}

interface PendingEphemeral {
  readonly receivers: readonly AppServiceRegistration[];
  readonly roomId: string;
  /** Set for receipts (private ones go only to services holding the user). */
  readonly receipt: ReceiptNotice | undefined;
  readonly edu: JsonObject;
}

interface Backoff {
  readonly failures: number;
  readonly nextAttemptTs: number;
}

const READ_BATCH = 200;

export function consumerName(registration: AppServiceRegistration): string {
  return `appservice:${registration.id}`;
}

export class TransactionWorker {
  readonly #o: Required<TransactionWorkerOptions>;
  readonly #consumers: EventConsumersRepository;
  readonly #queue: AppServiceRepository;
  readonly #aliases: AliasesRepository;
  readonly #positions = new Map<string, number>();
  readonly #backoff = new Map<string, Backoff>();
  #unsubscribe: (() => void) | undefined;
  readonly #ephemeralUnsubscribes: Array<() => void> = [];
  /**
   * Typing and receipts seen since the last pass. A pass queues them after the room events
   * committed before it began, so a receipt never reaches a service before its event.
   * Ephemeral by nature: what a crash loses here is superseded by the next update.
   */
  #pendingEphemeral: PendingEphemeral[] = [];
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: TransactionWorkerOptions) {
    this.#o = { baseBackoffMs: 1000, maxBackoffMs: 300_000, maxEventsPerTransaction: 100, ...options };
    this.#consumers = new EventConsumersRepository(options.db.kysely);
    this.#queue = new AppServiceRepository(options.db.kysely);
    this.#aliases = new AliasesRepository(options.db.kysely);
  }

  /** The services that receive pushes: those with a URL. */
  get #targets(): AppServiceRegistration[] {
    return this.#o.services.registrations.filter((r) => r.url !== null);
  }

  start(): void {
    if (this.#targets.length === 0) return;
    this.#unsubscribe = this.#o.roomserver.onNewEvent(() => this.poke());
    this.poke();
  }

  poke(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => this.#o.logger.error({ err }, 'application service pass failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.poke();
        }
      });
  }

  /** Pushes typing and receipts to the services with `receive_ephemeral`. */
  observeEphemeral(sources: EphemeralSources): void {
    const receivers = this.#targets.filter((r) => r.receiveEphemeral);
    if (receivers.length === 0) return;
    this.#ephemeralUnsubscribes.push(
      sources.typing.onChange((change) => {
        this.#queueEphemeral(receivers, change.roomId, undefined, typingEdu(change.roomId, sources.typing.typingUsers(change.roomId)));
      }),
      sources.receipts.onUpdate((update) => {
        this.#queueEphemeral(receivers, update.roomId, update, receiptEdu(update));
      }),
    );
  }

  #queueEphemeral(receivers: readonly AppServiceRegistration[], roomId: string, receipt: ReceiptNotice | undefined, edu: JsonObject): void {
    if (this.#closed) return;
    this.#pendingEphemeral.push({ receivers, roomId, receipt, edu });
    this.poke();
  }

  async #flushEphemeral(pending: readonly PendingEphemeral[]): Promise<void> {
    // One write per service per pass, however many EDUs arrived since the last one.
    const byService = new Map<string, string[]>();
    for (const { receivers, roomId, receipt, edu } of pending) {
      const json = JSON.stringify(edu);
      for (const registration of receivers) {
        // § "Private read receipts MUST only be sent for users matching one of the namespaces."
        const isPrivate = receipt !== undefined && receipt.receiptType === 'm.read.private';
        if (isPrivate && !this.#o.services.matcher.isUserOf(registration, receipt.userId)) continue;
        if (!(await this.#isInterestedInRoom(registration, roomId))) continue;
        const jsons = byService.get(registration.id);
        if (jsons === undefined) byService.set(registration.id, [json]);
        else jsons.push(json);
      }
    }
    for (const [serviceId, jsons] of byService) await this.#queue.enqueueEphemeral(serviceId, jsons, this.#o.clock());
  }

  /** Forgets a service's backoff and sends at once (a successful ping shows it is back). */
  retryNow(appserviceId: string): void {
    if (this.#backoff.delete(appserviceId)) this.poke();
  }

  /** Waits for the current pass (tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    for (const unsubscribe of this.#ephemeralUnsubscribes) unsubscribe();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.idle();
  }

  async #pass(): Promise<void> {
    const targets = this.#targets;
    const ephemeral = this.#pendingEphemeral.splice(0);
    const latest = await this.#o.roomserver.latestStreamPosition();
    for (const registration of targets) await this.#collect(registration, latest);
    await this.#flushEphemeral(ephemeral);
    await Promise.all(targets.map((registration) => this.#deliver(registration)));
    this.#scheduleRetry();
  }

  // --- queueing ----------------------------------------------------------------------------

  async #collect(registration: AppServiceRegistration, latest: number): Promise<void> {
    const consumer = consumerName(registration);
    let position = this.#positions.get(registration.id);
    if (position === undefined) {
      // A service seen for the first time starts at the present, not at the whole history.
      position = (await this.#consumers.position(consumer)) ?? latest;
      await this.#consumers.setPosition(consumer, position);
    }
    while (position < latest && !this.#closed) {
      const rows = await this.#consumers.eventsAfter(position, latest, READ_BATCH);
      const items: QueuedItem[] = [];
      for (const row of rows) {
        if (!(await this.#isInterested(registration, row))) continue;
        items.push({ kind: 'event', json: JSON.stringify(await this.#format(row)) });
      }
      position = rows.length < READ_BATCH ? latest : (rows.at(-1)?.streamOrdering ?? latest);
      await this.#queue.enqueue(registration.id, items, consumer, position, this.#o.clock());
    }
    this.#positions.set(registration.id, position);
  }

  async #isInterested(registration: AppServiceRegistration, row: StreamEventRow): Promise<boolean> {
    const matcher = this.#o.services.matcher;
    if (matcher.isUserOf(registration, row.sender)) return true;
    if (row.type === 'm.room.member' && row.stateKey !== null && matcher.isUserOf(registration, row.stateKey)) return true;
    return this.#isInterestedInRoom(registration, row.roomId);
  }

  async #isInterestedInRoom(registration: AppServiceRegistration, roomId: string): Promise<boolean> {
    const matcher = this.#o.services.matcher;
    if (matcher.isRoomOf(registration, roomId)) return true;
    if (registration.namespaces.aliases.length > 0) {
      const aliases = await this.#roomAliases(roomId);
      if (aliases.some((alias) => matcher.isAliasOf(registration, alias))) return true;
    }
    const members = await this.#o.roomserver.members(roomId, 'join');
    return members.some((userId) => matcher.isUserOf(registration, userId));
  }

  /** The room's local aliases and its canonical alias and alternatives. */
  async #roomAliases(roomId: string): Promise<string[]> {
    const aliases = await this.#aliases.aliasesOf(roomId);
    const canonical = await this.#o.roomserver.stateEvent(roomId, 'm.room.canonical_alias', '');
    const content = canonical === undefined ? undefined : getField(canonical.json, 'content');
    if (isJsonObject(content)) {
      const main = getField(content, 'alias');
      if (typeof main === 'string') aliases.push(main);
      const alt = getField(content, 'alt_aliases');
      if (Array.isArray(alt)) for (const a of alt) if (typeof a === 'string') aliases.push(a);
    }
    return aliases;
  }

  async #format(row: StreamEventRow): Promise<JsonObject> {
    // A redacted event is sent as clients see it.
    const json = row.redacted ? ((await this.#o.roomserver.event(row.eventId, 'client'))?.json ?? parse(row.json)) : parse(row.json);
    return toAppServiceEvent(row, json, this.#o.clock());
  }

  // --- delivery ----------------------------------------------------------------------------

  async #deliver(registration: AppServiceRegistration): Promise<void> {
    const log = this.#o.logger;
    while (!this.#closed) {
      const backoff = this.#backoff.get(registration.id);
      if (backoff !== undefined && backoff.nextAttemptTs > this.#o.clock()) return;
      const txn = await this.#queue.nextTransaction(registration.id, this.#o.maxEventsPerTransaction);
      if (txn === undefined) return;
      const body: JsonObject = {
        events: txn.items.filter((i) => i.kind === 'event').map((i) => parse(i.json)),
      };
      if (registration.receiveEphemeral) {
        const ephemeral = txn.items.filter((i) => i.kind === 'ephemeral').map((i) => parse(i.json));
        body['ephemeral'] = ephemeral;
        body['de.sorunome.msc2409.ephemeral'] = ephemeral;
      }
      let ok = false;
      try {
        ok = await this.#o.services.client.sendTransaction(registration, String(txn.txnId), body);
      } catch (err) {
        log.debug({ err, appservice: registration.id }, 'application service transaction failed');
      }
      if (this.#closed) return;
      if (ok) {
        await this.#queue.completeTransaction(registration.id, txn.txnId);
        if (backoff !== undefined) log.info({ appservice: registration.id }, 'application service reachable again');
        this.#backoff.delete(registration.id);
        continue;
      }
      const failures = (backoff?.failures ?? 0) + 1;
      const delay = Math.min(this.#o.maxBackoffMs, this.#o.baseBackoffMs * 2 ** Math.min(failures - 1, 30));
      this.#backoff.set(registration.id, { failures, nextAttemptTs: this.#o.clock() + delay });
      log.warn({ appservice: registration.id, txn_id: txn.txnId, failures, retry_in_ms: delay }, 'application service transaction not accepted; will retry');
      return;
    }
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    let next: number | undefined;
    for (const backoff of this.#backoff.values()) next = next === undefined ? backoff.nextAttemptTs : Math.min(next, backoff.nextAttemptTs);
    if (next === undefined) return;
    this.#timer = setTimeout(() => this.poke(), Math.max(0, next - this.#o.clock()));
    this.#timer.unref();
  }
}

function parse(json: string): JsonObject {
  const value: unknown = JSON.parse(json);
  return isJsonObject(value) ? value : {};
}
