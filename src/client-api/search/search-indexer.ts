// Keeps `event_search` up to date from the room-event stream, after commit, the way the
// relation indexer does: its own stored position (0 at first start, so existing history is
// indexed), woken by the roomserver's output; /search calls `catchUp()` first so an event
// just sent is found. Only the keys the spec searches are indexed (§ "room_events"):
// `content.body` of m.room.message, `content.name` of m.room.name, `content.topic` (and the
// text/plain `m.topic` body) of m.room.topic. Encrypted events carry no such keys; events
// already redacted are skipped, and a redaction deletes its target's row.

import type { Logger } from '../../logger.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { EventConsumersRepository, type StreamEventRow } from '../../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { SearchRepository, type SearchDocument, type SearchKey } from '../../storage/search-repository.ts';

export const SEARCH_CONSUMER = 'search';
const BATCH = 500;

export class SearchIndexer {
  readonly #roomserver: Roomserver;
  readonly #logger: Logger;
  readonly #consumers: EventConsumersRepository;
  readonly #search: SearchRepository;
  readonly #db: StoaDatabase;
  #position: number | undefined;
  #running: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: { db: StoaDatabase; roomserver: Roomserver; logger: Logger }) {
    this.#roomserver = options.roomserver;
    this.#logger = options.logger;
    this.#consumers = new EventConsumersRepository(options.db.kysely);
    this.#search = new SearchRepository(options.db.kysely);
    this.#db = options.db;
  }

  get repository(): SearchRepository {
    return this.#search;
  }

  start(): void {
    const run = () => {
      this.catchUp().catch((err: unknown) => this.#logger.error({ err }, 'search indexing failed'));
    };
    this.#unsubscribe = this.#roomserver.onNewEvent(run);
    // History written before the index existed (or while the server was down) starts now,
    // not at the first new event or search.
    run();
  }

  close(): void {
    this.#unsubscribe?.();
  }

  /** Indexes every event up to the roomserver's current safe position. */
  async catchUp(): Promise<void> {
    const target = await this.#roomserver.latestStreamPosition();
    while ((this.#position ?? -1) < target) {
      this.#running ??= this.#pass(target).finally(() => {
        this.#running = undefined;
      });
      await this.#running;
    }
  }

  async #pass(target: number): Promise<void> {
    let position = this.#position ?? (await this.#consumers.position(SEARCH_CONSUMER)) ?? 0;
    while (position < target) {
      const rows = await this.#consumers.eventsAfter(position, target, BATCH);
      const docs: SearchDocument[] = [];
      const redacted: string[] = [];
      for (const row of rows) {
        const json = parseObject(row.json);
        if (json === undefined) continue;
        if (row.type === 'm.room.redaction') {
          const target = redactsOf(json);
          if (target !== undefined) redacted.push(target);
          continue;
        }
        if (row.redacted) continue;
        const doc = searchDocumentOf(row, json);
        if (doc !== undefined) docs.push(doc);
      }
      position = rows.length < BATCH ? target : (rows.at(-1)?.streamOrdering ?? target);
      const reached = position;
      if (docs.length === 0 && redacted.length === 0) {
        await this.#consumers.setPosition(SEARCH_CONSUMER, reached);
      } else {
        // One commit per batch: the index rows and the position that covers them.
        await this.#db.kysely.transaction().execute(async (trx) => {
          const search = new SearchRepository(trx);
          await search.insertMany(docs);
          // After the inserts: a redaction later in the batch may name an event earlier in it.
          await search.deleteEvents(redacted);
          await new EventConsumersRepository(trx).setPosition(SEARCH_CONSUMER, reached);
        });
      }
      this.#position = position;
    }
    this.#position = Math.max(this.#position ?? 0, position);
  }
}

/** The searchable text of one stream event, or undefined when it has none. */
export function searchDocumentOf(row: StreamEventRow, json: JsonObject): SearchDocument | undefined {
  const content = getField(json, 'content');
  if (!isJsonObject(content)) return undefined;
  let key: SearchKey;
  let value: string | undefined;
  if (row.type === 'm.room.message' && row.stateKey === null) {
    key = 'content.body';
    value = stringField(content, 'body');
  } else if (row.type === 'm.room.name' && row.stateKey === '') {
    key = 'content.name';
    value = stringField(content, 'name');
  } else if (row.type === 'm.room.topic' && row.stateKey === '') {
    key = 'content.topic';
    const parts = [stringField(content, 'topic'), plainTopicOf(content)].filter((p): p is string => p !== undefined && p !== '');
    value = [...new Set(parts)].join('\n');
  } else {
    return undefined;
  }
  if (value === undefined || value.trim() === '') return undefined;
  return {
    eventId: row.eventId,
    roomId: row.roomId,
    sender: row.sender,
    type: row.type,
    key,
    value,
    streamOrdering: row.streamOrdering,
    originServerTs: row.originServerTs,
  };
}

/** The `body` of the text/plain representation in `m.topic` (§ m.room.topic). */
function plainTopicOf(content: JsonObject): string | undefined {
  const topic = getField(content, 'm.topic');
  const reps = isJsonObject(topic) ? getField(topic, 'm.text') : undefined;
  if (!Array.isArray(reps)) return undefined;
  for (const rep of reps) {
    if (!isJsonObject(rep)) continue;
    const mimetype = getField(rep, 'mimetype');
    if (mimetype === undefined || mimetype === 'text/plain') {
      const body = stringField(rep, 'body');
      if (body !== undefined) return body;
    }
  }
  return undefined;
}

/** The event a redaction names: `content.redacts` (room v11) or the top-level `redacts`. */
function redactsOf(json: JsonObject): string | undefined {
  const content = getField(json, 'content');
  const inner = isJsonObject(content) ? getField(content, 'redacts') : undefined;
  if (typeof inner === 'string') return inner;
  const outer = getField(json, 'redacts');
  return typeof outer === 'string' ? outer : undefined;
}

function stringField(object: JsonObject, key: string): string | undefined {
  const value = getField(object, key);
  return typeof value === 'string' ? value : undefined;
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
