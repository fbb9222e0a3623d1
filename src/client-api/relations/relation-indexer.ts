// Keeps `event_relations` up to date from the room-event stream, after commit: a consumer
// with its own stored position (starting at 0, so a first start indexes the existing
// history), woken by the roomserver's output. Readers call `catchUp()` first, so an event
// the client just sent is already indexed when it asks for relations.

import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { EventConsumersRepository } from '../../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { RelationsRepository, type RelationRow } from '../../storage/relations-repository.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { relationOf } from './relation-of.ts';

export const RELATIONS_CONSUMER = 'relations';
const BATCH = 500;

export class RelationIndexer {
  readonly #roomserver: Roomserver;
  readonly #logger: Logger;
  readonly #consumers: EventConsumersRepository;
  readonly #relations: RelationsRepository;
  readonly #db: StoaDatabase;
  #position: number | undefined;
  #running: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: { db: StoaDatabase; roomserver: Roomserver; logger: Logger }) {
    this.#roomserver = options.roomserver;
    this.#logger = options.logger;
    this.#consumers = new EventConsumersRepository(options.db.kysely);
    this.#relations = new RelationsRepository(options.db.kysely);
    this.#db = options.db;
  }

  get repository(): RelationsRepository {
    return this.#relations;
  }

  start(): void {
    this.#unsubscribe = this.#roomserver.onNewEvent(() => {
      this.catchUp().catch((err: unknown) => this.#logger.error({ err }, 'relation indexing failed'));
    });
  }

  close(): void {
    this.#unsubscribe?.();
  }

  /** Indexes every event up to the roomserver's current safe position. */
  async catchUp(): Promise<void> {
    const target = await this.#roomserver.latestStreamPosition();
    // One pass at a time; a pass that started earlier may stop short of `target`, so loop.
    while ((this.#position ?? -1) < target) {
      this.#running ??= this.#pass(target).finally(() => {
        this.#running = undefined;
      });
      await this.#running;
    }
  }

  async #pass(target: number): Promise<void> {
    let position = this.#position ?? (await this.#consumers.position(RELATIONS_CONSUMER)) ?? 0;
    while (position < target) {
      const rows = await this.#consumers.eventsAfter(position, target, BATCH);
      const relations: RelationRow[] = [];
      for (const row of rows) {
        const json = parseObject(row.json);
        const relation = json === undefined ? undefined : relationOf(json);
        if (relation === undefined) continue;
        relations.push({
          eventId: row.eventId,
          relatesToId: relation.eventId,
          relType: relation.relType,
          roomId: row.roomId,
          sender: row.sender,
          type: row.type,
          streamOrdering: row.streamOrdering,
          originServerTs: row.originServerTs,
          annotationKey: relation.relType === 'm.annotation' ? (relation.key ?? null) : null,
        });
      }
      position = rows.length < BATCH ? target : (rows.at(-1)?.streamOrdering ?? target);
      const reached = position;
      if (relations.length === 0) {
        await this.#consumers.setPosition(RELATIONS_CONSUMER, reached);
      } else {
        // One commit per batch: the relations and the position that covers them.
        await this.#db.kysely.transaction().execute(async (trx) => {
          await new RelationsRepository(trx).insertMany(relations);
          await new EventConsumersRepository(trx).setPosition(RELATIONS_CONSUMER, reached);
        });
      }
      this.#position = position;
    }
    this.#position = Math.max(this.#position ?? 0, position);
  }
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
