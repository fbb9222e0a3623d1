// Keeps `event_search` up to date from the room-event stream (a StreamConsumer, like the
// relation indexer: its own stored position, 0 at first start so existing history is
// indexed, woken by the roomserver's output, and backfilled history below it as it
// arrives); /search calls `catchUp()` first so an event just sent is found. Only the keys the spec searches are indexed (§ "room_events"):
// `content.body` of m.room.message, `content.name` of m.room.name, `content.topic` (and the
// text/plain `m.topic` body) of m.room.topic. Encrypted events carry no such keys; events
// already redacted are skipped, and a redaction deletes its target's row.

import type { Logger } from '../../logger.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StreamEventRow } from '../../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { SearchRepository, type SearchDocument, type SearchKey } from '../../storage/search-repository.ts';
import { parseEventJson, StreamConsumer } from '../stream-consumer.ts';

export const SEARCH_CONSUMER = 'search';

export class SearchIndexer {
  readonly #search: SearchRepository;
  readonly #stream: StreamConsumer;

  constructor(options: { db: StoaDatabase; roomserver: Roomserver; logger: Logger }) {
    this.#search = new SearchRepository(options.db.kysely);
    this.#stream = new StreamConsumer({ ...options, consumer: SEARCH_CONSUMER, work: 'search indexing', handleBatch: searchWritesOf });
  }

  get repository(): SearchRepository {
    return this.#search;
  }

  /** Follows new events, and starts on history written before the index existed (or while down) now. */
  start(): void {
    this.#stream.start(true);
  }

  close(): void {
    this.#stream.close();
  }

  /** Indexes every event up to the roomserver's current safe position. */
  catchUp(): Promise<void> {
    return this.#stream.catchUp();
  }
}

/** One batch's index rows and the redactions that remove rows; undefined when neither. */
function searchWritesOf(rows: readonly StreamEventRow[]): ((db: ConstructorParameters<typeof SearchRepository>[0]) => Promise<void>) | undefined {
  const docs: SearchDocument[] = [];
  const redacted: string[] = [];
  for (const row of rows) {
    const json = parseEventJson(row.json);
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
  if (docs.length === 0 && redacted.length === 0) return undefined;
  return async (db) => {
    const search = new SearchRepository(db);
    await search.insertMany(docs);
    // After the inserts: a redaction later in the batch may name an event earlier in it.
    await search.deleteEvents(redacted);
  };
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
