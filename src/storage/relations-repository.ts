// Event relationships (client-server § "Forming relationships between events"): one row per
// event whose content has an `m.relates_to` with a `rel_type`. Reads join `events` so that a
// redacted child no longer counts ("when a child event is redacted then the relationship is
// broken") and only children in the parent's room are returned.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface RelationRow {
  readonly eventId: string;
  readonly relatesToId: string;
  readonly relType: string;
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly streamOrdering: number;
  readonly originServerTs: number;
  readonly annotationKey: string | null;
}

export interface ChildrenQuery {
  readonly roomId: string;
  readonly parentIds: readonly string[];
  readonly relType?: string;
  readonly eventType?: string;
  /** Inclusive upper bound of stream positions. */
  readonly atOrBelow?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  readonly direction: 'forward' | 'backward';
  readonly limit: number;
}

export interface ThreadSummaryRow {
  readonly rootId: string;
  readonly count: number;
  readonly latestStream: number;
  readonly latestEventId: string;
  readonly participated: boolean;
}

export interface ThreadRootsQuery {
  readonly roomId: string;
  /** Only threads this user started or replied in. */
  readonly participant?: string;
  /** Threads whose latest event is at or below this position. */
  readonly latestAtOrBelow?: number;
  readonly limit: number;
}

export class RelationsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertMany(rows: readonly RelationRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#db
      .insertInto('event_relations')
      .values(
        rows.map((r) => ({
          event_id: r.eventId,
          relates_to_id: r.relatesToId,
          rel_type: r.relType,
          room_id: r.roomId,
          sender: r.sender,
          type: r.type,
          stream_ordering: r.streamOrdering,
          origin_server_ts: r.originServerTs,
          annotation_key: r.annotationKey,
        })),
      )
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }

  /** The relation `eventId` itself forms, when it has one and it is not redacted. */
  async relationOf(eventId: string): Promise<RelationRow | undefined> {
    const row = await this.#live().where('r.event_id', '=', eventId).executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** The relations the events among `eventIds` form themselves (redacted or not). */
  async relationsOf(eventIds: readonly string[]): Promise<RelationRow[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.#db.selectFrom('event_relations').selectAll().where('event_id', 'in', [...eventIds]).execute();
    return rows.map(fromRow);
  }

  /** Non-redacted children of `parentIds` in `roomId`, paged by stream position. */
  async children(query: ChildrenQuery): Promise<RelationRow[]> {
    if (query.parentIds.length === 0 || query.limit <= 0) return [];
    let q = this.#live().where('r.room_id', '=', query.roomId).where('r.relates_to_id', 'in', [...query.parentIds]);
    if (query.relType !== undefined) q = q.where('r.rel_type', '=', query.relType);
    if (query.eventType !== undefined) q = q.where('r.type', '=', query.eventType);
    if (query.atOrBelow !== undefined) q = q.where('r.stream_ordering', '<=', query.atOrBelow);
    if (query.above !== undefined) q = q.where('r.stream_ordering', '>', query.above);
    const rows = await q
      .orderBy('r.stream_ordering', query.direction === 'forward' ? 'asc' : 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(fromRow);
  }

  /** Every non-redacted child of `parentIds` with `relType` (edits and references: few per event). */
  async childrenOfType(parentIds: readonly string[], relType: string, limit = 1000): Promise<RelationRow[]> {
    if (parentIds.length === 0) return [];
    const rows = await this.#live()
      .where('r.relates_to_id', 'in', [...parentIds])
      .where('r.rel_type', '=', relType)
      .orderBy('r.stream_ordering')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  /** Per thread root among `rootIds`: reply count, latest reply, and whether `userId` replied. */
  async threadSummaries(rootIds: readonly string[], userId: string): Promise<ThreadSummaryRow[]> {
    if (rootIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('event_relations as r')
      .innerJoin('events as e', 'e.event_id', 'r.event_id')
      .where('e.redacted_by', 'is', null)
      .where('r.relates_to_id', 'in', [...rootIds])
      .where('r.rel_type', '=', 'm.thread')
      .whereRef('r.room_id', '=', 'e.room_id')
      .select((eb) => [
        'r.relates_to_id as root',
        eb.fn.countAll<number>().as('count'),
        eb.fn.max('r.stream_ordering').as('latest'),
        sql<boolean>`bool_or(r.sender = ${userId})`.as('participated'),
      ])
      .groupBy('r.relates_to_id')
      .execute();
    if (rows.length === 0) return [];
    const latest = await this.#db
      .selectFrom('event_relations')
      .select(['relates_to_id', 'event_id', 'stream_ordering'])
      .where('relates_to_id', 'in', rows.map((r) => r.root))
      .where('stream_ordering', 'in', rows.map((r) => Number(r.latest)))
      .execute();
    const latestId = new Map(latest.map((r) => [`${r.relates_to_id} ${r.stream_ordering}`, r.event_id]));
    return rows.flatMap((r) => {
      const id = latestId.get(`${r.root} ${Number(r.latest)}`);
      return id === undefined
        ? []
        : [{ rootId: r.root, count: Number(r.count), latestStream: Number(r.latest), latestEventId: id, participated: r.participated === true }];
    });
  }

  /**
   * Thread roots of a room, latest activity first: `{rootId, latestStream}`. With
   * `participant`, only threads whose root they sent or in which they replied.
   */
  async threadRoots(query: ThreadRootsQuery): Promise<Array<{ rootId: string; latestStream: number }>> {
    let q = this.#db
      .selectFrom('event_relations as r')
      .innerJoin('events as e', 'e.event_id', 'r.event_id')
      .where('e.redacted_by', 'is', null)
      .where('r.room_id', '=', query.roomId)
      .where('r.rel_type', '=', 'm.thread')
      .select((eb) => ['r.relates_to_id as root', eb.fn.max('r.stream_ordering').as('latest')])
      .groupBy('r.relates_to_id');
    if (query.participant !== undefined) {
      const user = query.participant;
      q = q.where((eb) =>
        eb.or([
          eb(
            'r.relates_to_id',
            'in',
            eb.selectFrom('event_relations as p').select('p.relates_to_id').where('p.rel_type', '=', 'm.thread').where('p.sender', '=', user).where('p.room_id', '=', query.roomId),
          ),
          eb('r.relates_to_id', 'in', eb.selectFrom('events as root').select('root.event_id').where('root.room_id', '=', query.roomId).where('root.sender', '=', user)),
        ]),
      );
    }
    if (query.latestAtOrBelow !== undefined) q = q.having((eb) => eb.fn.max('r.stream_ordering'), '<=', query.latestAtOrBelow);
    const rows = await q.orderBy('latest', 'desc').limit(query.limit).execute();
    return rows.map((r) => ({ rootId: r.root, latestStream: Number(r.latest) }));
  }

  /** Whether `sender` has a live annotation of `parentId` with this event type and key. */
  async hasAnnotation(parentId: string, sender: string, type: string, key: string): Promise<boolean> {
    const row = await this.#live()
      .where('r.relates_to_id', '=', parentId)
      .where('r.rel_type', '=', 'm.annotation')
      .where('r.sender', '=', sender)
      .where('r.type', '=', type)
      .where('r.annotation_key', '=', key)
      .executeTakeFirst();
    return row !== undefined;
  }

  #live() {
    return this.#db
      .selectFrom('event_relations as r')
      .innerJoin('events as e', 'e.event_id', 'r.event_id')
      .where('e.redacted_by', 'is', null)
      .selectAll('r');
  }
}

function fromRow(r: Database['event_relations']): RelationRow {
  return {
    eventId: r.event_id,
    relatesToId: r.relates_to_id,
    relType: r.rel_type,
    roomId: r.room_id,
    sender: r.sender,
    type: r.type,
    streamOrdering: r.stream_ordering,
    originServerTs: r.origin_server_ts,
    annotationKey: r.annotation_key,
  };
}
