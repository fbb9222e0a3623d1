// A follower of the room-event stream, after commit: its own stored position (starting at
// 0, so a first start covers the existing history), woken by the roomserver's output, one
// pass at a time. Each batch's rows are handed to the owner, whose writes commit together
// with the position that covers them. The relation and search indexes are built this way;
// their readers call `catchUp()` first, so an event just sent is already indexed.
//
// Backfilled history (server-server § "Backfilling and retrieving missing events") takes
// positions below 0, lower with each batch, and is not on the output (it is not new). The
// same pass covers it with a second stored position that moves down: the lowest backfilled
// position handled (`<consumer>:backfilled`, 0 at first), read down to the roomserver's
// backfill floor (../roomserver/backfill-positions.ts), whose moves wake the consumer too.
// Only indexes follow it: the pusher and the application-service sender read upwards from
// their own positions and never see backfilled events, since old messages are no news to
// notify anyone of.

import type { Logger } from '../logger.ts';
import type { JsonObject } from '../rooms/json.ts';
import { isJsonObject } from '../rooms/json.ts';
import type { Roomserver } from '../roomserver/index.ts';
import { EventConsumersRepository, type StreamEventRow } from '../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../storage/index.ts';

const BATCH = 500;

/** The database handle a batch's writes run on: the transaction that also saves the position. */
export type BatchDb = ConstructorParameters<typeof EventConsumersRepository>[0];

/** What one batch of stream rows asks to write; undefined when it writes nothing. */
export type BatchHandler = (rows: readonly StreamEventRow[]) => ((db: BatchDb) => Promise<void>) | undefined;

export interface StreamConsumerOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly logger: Logger;
  /** The name its position is stored under. */
  readonly consumer: string;
  /** For the log line when a pass fails, e.g. "relation indexing". */
  readonly work: string;
  readonly handleBatch: BatchHandler;
}

export class StreamConsumer {
  readonly #options: StreamConsumerOptions;
  readonly #consumers: EventConsumersRepository;
  #position: number | undefined;
  /** The lowest backfilled position handled: every backfilled event in [#low, 0) is. */
  #low: number | undefined;
  #running: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: StreamConsumerOptions) {
    this.#options = options;
    this.#consumers = new EventConsumersRepository(options.db.kysely);
  }

  /** Follows new events; with `catchUpNow`, history missed while stopped is covered at once. */
  start(catchUpNow: boolean): void {
    const run = () => {
      this.catchUp().catch((err: unknown) => this.#options.logger.error({ err }, `${this.#options.work} failed`));
    };
    const { roomserver } = this.#options;
    const unsubscribers = [roomserver.onNewEvent(run), roomserver.backfilled.onAdvance(run)];
    this.#unsubscribe = () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
    if (catchUpNow) run();
  }

  close(): void {
    this.#unsubscribe?.();
  }

  /** Handles every event up to the roomserver's current safe position, and backfilled history down to its floor. */
  async catchUp(): Promise<void> {
    const { roomserver } = this.#options;
    const target = await roomserver.latestStreamPosition();
    const floor = await roomserver.backfilled.floor();
    // One pass at a time; a pass that started earlier may stop short of `target` or `floor`, so loop.
    while ((this.#position ?? -1) < target || (this.#low ?? 1) > floor) {
      this.#running ??= this.#pass(target, floor).finally(() => {
        this.#running = undefined;
      });
      await this.#running;
    }
  }

  async #pass(target: number, floor: number): Promise<void> {
    const { consumer } = this.#options;
    let position = this.#position ?? (await this.#consumers.position(consumer)) ?? 0;
    while (position < target) {
      const rows = await this.#consumers.eventsAfter(position, target, BATCH);
      position = rows.length < BATCH ? target : (rows.at(-1)?.streamOrdering ?? target);
      await this.#handle(consumer, rows, position);
      this.#position = position;
    }
    this.#position = Math.max(this.#position ?? 0, position);

    // Backfilled history, newest first, a batch at a time (each batch handed over oldest first).
    const backfilled = backfilledPositionName(consumer);
    let low = this.#low ?? (await this.#consumers.position(backfilled)) ?? 0;
    while (low > floor) {
      const rows = await this.#consumers.eventsBelow(low, floor, BATCH);
      low = rows.length < BATCH ? floor : (rows[0]?.streamOrdering ?? floor);
      await this.#handle(backfilled, rows, low);
      this.#low = low;
    }
    this.#low = Math.min(this.#low ?? 0, low);
  }

  /** Hands `rows` to the owner; its writes commit with the position `name` reached. */
  async #handle(name: string, rows: readonly StreamEventRow[], reached: number): Promise<void> {
    const write = this.#options.handleBatch(rows);
    if (write === undefined) {
      await this.#consumers.setPosition(name, reached);
      return;
    }
    // One commit per batch: the owner's rows and the position that covers them.
    await this.#options.db.kysely.transaction().execute(async (trx) => {
      await write(trx);
      await new EventConsumersRepository(trx).setPosition(name, reached);
    });
  }
}

/** Where a consumer keeps the lowest backfilled position it has handled. */
export function backfilledPositionName(consumer: string): string {
  return `${consumer}:backfilled`;
}

/** A stream row's JSON as an object; undefined when it is not one. */
export function parseEventJson(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
