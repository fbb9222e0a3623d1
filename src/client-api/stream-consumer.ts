// A follower of the room-event stream, after commit: its own stored position (starting at
// 0, so a first start covers the existing history), woken by the roomserver's output, one
// pass at a time. Each batch's rows are handed to the owner, whose writes commit together
// with the position that covers them. The relation and search indexes are built this way;
// their readers call `catchUp()` first, so an event just sent is already indexed.

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
    this.#unsubscribe = this.#options.roomserver.onNewEvent(run);
    if (catchUpNow) run();
  }

  close(): void {
    this.#unsubscribe?.();
  }

  /** Handles every event up to the roomserver's current safe position. */
  async catchUp(): Promise<void> {
    const target = await this.#options.roomserver.latestStreamPosition();
    // One pass at a time; a pass that started earlier may stop short of `target`, so loop.
    while ((this.#position ?? -1) < target) {
      this.#running ??= this.#pass(target).finally(() => {
        this.#running = undefined;
      });
      await this.#running;
    }
  }

  async #pass(target: number): Promise<void> {
    const { consumer } = this.#options;
    let position = this.#position ?? (await this.#consumers.position(consumer)) ?? 0;
    while (position < target) {
      const rows = await this.#consumers.eventsAfter(position, target, BATCH);
      const write = this.#options.handleBatch(rows);
      position = rows.length < BATCH ? target : (rows.at(-1)?.streamOrdering ?? target);
      const reached = position;
      if (write === undefined) {
        await this.#consumers.setPosition(consumer, reached);
      } else {
        // One commit per batch: the owner's rows and the position that covers them.
        await this.#options.db.kysely.transaction().execute(async (trx) => {
          await write(trx);
          await new EventConsumersRepository(trx).setPosition(consumer, reached);
        });
      }
      this.#position = position;
    }
    this.#position = Math.max(this.#position ?? 0, position);
  }
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
