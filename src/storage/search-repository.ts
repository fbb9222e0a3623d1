// Full-text search over room events (client-server § "Server Side Search"), with PostgreSQL's
// text search (`tsvector`, `websearch_to_tsquery`, `ts_rank_cd`, `ts_headline`), which
// PGlite has too. Rows are written by the search indexer from the event stream; reads join
// `events` so an event redacted after it was indexed is never found, whatever the indexer
// has got to. Which rooms and up to where is the caller's decision (history visibility).

import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../schema/database.ts';

/** The text search configuration: stemming and stop words as Synapse uses them. */
const CONFIG = 'english';

export type SearchKey = 'content.body' | 'content.name' | 'content.topic';

export interface SearchDocument {
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly key: SearchKey;
  readonly value: string;
  readonly streamOrdering: number;
  readonly originServerTs: number;
}

/** A room to search, up to a stream position (inclusive) or, when undefined, to now. */
export interface SearchRoom {
  readonly roomId: string;
  readonly upTo: number | undefined;
}

/** Where a page ended: results strictly after this point in the chosen order come next. */
export type SearchCursor = { readonly rank: number; readonly streamOrdering: number } | { readonly rank?: undefined; readonly streamOrdering: number };

export interface SearchQuery {
  readonly term: string;
  readonly keys: readonly SearchKey[];
  readonly rooms: readonly SearchRoom[];
  readonly senders: readonly string[] | undefined;
  readonly notSenders: readonly string[];
  readonly orderBy: 'rank' | 'recent';
  readonly after: SearchCursor | undefined;
  readonly limit: number;
}

export interface SearchHit {
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly streamOrdering: number;
  readonly rank: number;
}

export class SearchRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertMany(docs: readonly SearchDocument[]): Promise<void> {
    if (docs.length === 0) return;
    await this.#db
      .insertInto('event_search')
      .values(
        docs.map((d) => ({
          event_id: d.eventId,
          room_id: d.roomId,
          sender: d.sender,
          type: d.type,
          key: d.key,
          value: withoutNul(d.value),
          vector: sql<string>`to_tsvector(${CONFIG}::regconfig, ${withoutNul(d.value)})`,
          stream_ordering: d.streamOrdering,
          origin_server_ts: d.originServerTs,
        })),
      )
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }

  /** Forgets redacted events: their text must not be searchable any more. */
  async deleteEvents(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.#db.deleteFrom('event_search').where('event_id', 'in', [...eventIds]).execute();
  }

  /** One page of matches in `orderBy` order, after `after` (exclusive). */
  async search(query: SearchQuery): Promise<SearchHit[]> {
    if (query.rooms.length === 0 || query.keys.length === 0 || query.limit <= 0) return [];
    const tsquery = sql`websearch_to_tsquery(${CONFIG}::regconfig, ${withoutNul(query.term)})`;
    const matches = this.#matches(query)
      .select(['s.event_id', 's.room_id', 's.sender', 's.stream_ordering', sql<number>`ts_rank_cd(s.vector, ${tsquery})::float8`.as('rank')]);
    let page = this.#db.selectFrom(matches.as('m')).selectAll();
    const after = query.after;
    if (query.orderBy === 'rank') {
      if (after !== undefined) {
        const rank = after.rank ?? Number.POSITIVE_INFINITY;
        page = page.where(sql<SqlBool>`(m.rank, m.stream_ordering) < (${rank}::float8, ${after.streamOrdering}::bigint)`);
      }
      page = page.orderBy('m.rank', 'desc').orderBy('m.stream_ordering', 'desc');
    } else {
      if (after !== undefined) page = page.where('m.stream_ordering', '<', after.streamOrdering);
      page = page.orderBy('m.stream_ordering', 'desc');
    }
    const rows = await page.limit(query.limit).execute();
    return rows.map((r) => ({
      eventId: r.event_id,
      roomId: r.room_id,
      sender: r.sender,
      streamOrdering: Number(r.stream_ordering),
      rank: Number(r.rank),
    }));
  }

  /** How many events match in all (the response's approximate `count`). */
  async count(query: SearchQuery): Promise<number> {
    if (query.rooms.length === 0 || query.keys.length === 0) return 0;
    const row = await this.#matches(query)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * The words of these events' indexed text that the search term matched, as written (for
   * the response's `highlights`: stemming makes "martians" match "Martian").
   */
  async highlights(eventIds: readonly string[], term: string): Promise<string[]> {
    if (eventIds.length === 0) return [];
    const tsquery = sql`websearch_to_tsquery(${CONFIG}::regconfig, ${withoutNul(term)})`;
    const rows = await this.#db
      .selectFrom('event_search')
      .select(sql<string>`ts_headline(${CONFIG}::regconfig, value, ${tsquery}, ${HEADLINE_OPTIONS})`.as('headline'))
      .where('event_id', 'in', [...eventIds])
      .execute();
    const words = new Set<string>();
    for (const { headline } of rows) {
      for (const match of headline.matchAll(HIGHLIGHTED)) if (match[1] !== undefined && match[1] !== '') words.add(match[1]);
    }
    return [...words];
  }

  /** The rooms among `roomIds` with end-to-end encryption on, which search leaves out. */
  async encryptedRooms(roomIds: readonly string[]): Promise<Set<string>> {
    if (roomIds.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom('current_state')
      .select('room_id')
      .where('type', '=', 'm.room.encryption')
      .where('state_key', '=', '')
      .where('room_id', 'in', [...roomIds])
      .execute();
    return new Set(rows.map((r) => r.room_id));
  }

  #matches(query: SearchQuery) {
    const tsquery = sql`websearch_to_tsquery(${CONFIG}::regconfig, ${withoutNul(query.term)})`;
    let q = this.#db
      .selectFrom('event_search as s')
      .innerJoin('events as e', 'e.event_id', 's.event_id')
      .where('e.redacted_by', 'is', null)
      .where(sql<SqlBool>`s.vector @@ ${tsquery}`)
      .where('s.key', 'in', [...query.keys]);
    // A user ID with U+0000 matches no one (and PostgreSQL text cannot hold it).
    const storable = (ids: readonly string[]) => ids.filter((id) => !id.includes('\u0000'));
    if (query.senders !== undefined) {
      const senders = storable(query.senders);
      if (senders.length === 0) return q.where(sql<SqlBool>`false`);
      q = q.where('s.sender', 'in', senders);
    }
    const notSenders = storable(query.notSenders);
    if (notSenders.length > 0) q = q.where('s.sender', 'not in', notSenders);
    const unbounded = query.rooms.filter((r) => r.upTo === undefined).map((r) => r.roomId);
    const bounded = query.rooms.filter((r): r is { roomId: string; upTo: number } => r.upTo !== undefined);
    return q.where((eb) => {
      const windows: Expression<SqlBool>[] = [];
      if (unbounded.length > 0) windows.push(eb('s.room_id', 'in', unbounded));
      for (const room of bounded) windows.push(eb.and([eb('s.room_id', '=', room.roomId), eb('s.stream_ordering', '<=', room.upTo)]));
      return eb.or(windows);
    });
  }
}

/** PostgreSQL text cannot hold U+0000, which JSON strings can. */
function withoutNul(text: string): string {
  return text.replace(/\u0000/g, ' ');
}

// Markers no message text contains (control characters), so a match is unambiguous.
const START = '\u0002';
const STOP = '\u0003';
const HEADLINE_OPTIONS = `StartSel=${START}, StopSel=${STOP}, HighlightAll=true`;
const HIGHLIGHTED = new RegExp(`${START}([^${STOP}]*)${STOP}`, 'g');
