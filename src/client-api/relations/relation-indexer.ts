// Keeps `event_relations` up to date from the room-event stream (a StreamConsumer: its
// own stored position, woken by the roomserver's output, and backfilled history as it
// arrives, so an edit backfilled with its original aggregates under it). Readers call
// `catchUp()` first, so an event the client just sent is already indexed when it asks for
// relations.

import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StreamEventRow } from '../../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { RelationsRepository, type RelationRow } from '../../storage/relations-repository.ts';
import { parseEventJson, StreamConsumer } from '../stream-consumer.ts';
import { relationOf } from './relation-of.ts';

export const RELATIONS_CONSUMER = 'relations';

export class RelationIndexer {
  readonly #relations: RelationsRepository;
  readonly #stream: StreamConsumer;

  constructor(options: { db: StoaDatabase; roomserver: Roomserver; logger: Logger }) {
    this.#relations = new RelationsRepository(options.db.kysely);
    this.#stream = new StreamConsumer({
      ...options,
      consumer: RELATIONS_CONSUMER,
      work: 'relation indexing',
      handleBatch: (rows) => {
        const relations = relationRowsOf(rows);
        return relations.length === 0 ? undefined : (db) => new RelationsRepository(db).insertMany(relations);
      },
    });
  }

  get repository(): RelationsRepository {
    return this.#relations;
  }

  start(): void {
    this.#stream.start(false);
  }

  close(): void {
    this.#stream.close();
  }

  /** Indexes every event up to the roomserver's current safe position. */
  catchUp(): Promise<void> {
    return this.#stream.catchUp();
  }
}

function relationRowsOf(rows: readonly StreamEventRow[]): RelationRow[] {
  const relations: RelationRow[] = [];
  for (const row of rows) {
    const json = parseEventJson(row.json);
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
  return relations;
}
