// Bundled aggregations (client-server § "Aggregations of child events"), per rel_type:
// - `m.replace` (§ "Server-side aggregation of m.replace relationships"): the most recent
//   valid replacement, by `origin_server_ts` then the larger event ID, in the client event
//   format; none when the original is redacted. Valid: same sender, same type, the original
//   is not a state event nor itself an edit, and the edit has `m.new_content` (encrypted
//   edits carry it inside the ciphertext, so it cannot be checked there).
// - `m.thread` (§ "Server-side aggregation of m.thread relationships"): `count`,
//   `latest_event` (with its own aggregations) and `current_user_participated`.
// - `m.reference` (§ "Server-side aggregation of m.reference"): `chunk` of `{event_id}`.
// `m.annotation` is not aggregated. Children the user may not see are left out.

import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import type { ClientReadQueries } from '../../roomserver/queries-client.ts';
import type { AggregationTarget, BundledAggregator } from '../formatting/bundled-aggregations.ts';
import { toClientEvent } from '../formatting/client-event.ts';
import type { RelationIndexer } from './relation-indexer.ts';

export class RelationAggregator implements BundledAggregator {
  readonly #indexer: RelationIndexer;
  readonly #queries: ClientReadQueries;
  readonly #clock: () => number;

  constructor(options: { indexer: RelationIndexer; queries: ClientReadQueries; clock: () => number }) {
    this.#indexer = options.indexer;
    this.#queries = options.queries;
    this.#clock = options.clock;
  }

  async aggregate(roomId: string, events: readonly AggregationTarget[], userId: string): Promise<Map<string, JsonObject>> {
    return this.#aggregate(roomId, events, userId, true);
  }

  async #aggregate(roomId: string, events: readonly AggregationTarget[], userId: string, withThreads: boolean): Promise<Map<string, JsonObject>> {
    // "State events do not currently receive bundled aggregations."
    const targets = events.filter((e) => e.stateKey === undefined);
    const out = new Map<string, JsonObject>();
    if (targets.length === 0) return out;
    await this.#indexer.catchUp();
    const repo = this.#indexer.repository;
    const ids = targets.map((e) => e.eventId);
    const byId = new Map(targets.map((e) => [e.eventId, e]));
    const add = (eventId: string, relType: string, value: JsonObject) => {
      const relations = out.get(eventId) ?? {};
      relations[relType] = value;
      out.set(eventId, relations);
    };

    // m.replace
    const ownRelations = new Map((await repo.relationsOf(ids)).map((r) => [r.eventId, r]));
    const edits = (await repo.childrenOfType(ids, 'm.replace')).filter((edit) => {
      const original = byId.get(edit.relatesToId);
      return original !== undefined && original.redactedBy === null && edit.roomId === roomId
        && edit.sender === original.sender && edit.type === original.type
        && ownRelations.get(original.eventId)?.relType !== 'm.replace';
    });
    const editEvents = await this.#visible(roomId, userId, edits.map((e) => e.eventId));
    const latestEdit = new Map<string, RoomEvent>();
    for (const edit of editEvents.values()) {
      const content = getField(edit.json, 'content');
      if (edit.stateKey !== undefined || !isJsonObject(content)) continue;
      if (edit.type !== 'm.room.encrypted' && !isJsonObject(getField(content, 'm.new_content'))) continue;
      const parent = edits.find((e) => e.eventId === edit.eventId)?.relatesToId;
      if (parent === undefined) continue;
      const current = latestEdit.get(parent);
      if (current === undefined || newer(edit, current)) latestEdit.set(parent, edit);
    }
    for (const [parent, edit] of latestEdit) add(parent, 'm.replace', this.#format(edit));

    // m.thread
    if (withThreads) {
      const summaries = await repo.threadSummaries(ids, userId);
      const latest = await this.#visible(roomId, userId, summaries.map((s) => s.latestEventId));
      const latestAggregations = await this.#aggregate(roomId, [...latest.values()], userId, false);
      for (const summary of summaries) {
        const event = latest.get(summary.latestEventId);
        if (event === undefined) continue;
        const formatted = this.#format(event);
        const nested = latestAggregations.get(event.eventId);
        if (nested !== undefined && isJsonObject(formatted['unsigned'])) formatted['unsigned']['m.relations'] = nested;
        add(summary.rootId, 'm.thread', {
          latest_event: formatted,
          count: summary.count,
          current_user_participated: summary.participated || byId.get(summary.rootId)?.sender === userId,
        });
      }
    }

    // m.reference
    const references = (await repo.childrenOfType(ids, 'm.reference')).filter((r) => r.roomId === roomId);
    const visibleReferences = await this.#visible(roomId, userId, references.map((r) => r.eventId));
    const chunks = new Map<string, JsonObject[]>();
    for (const reference of references) {
      if (!visibleReferences.has(reference.eventId)) continue;
      const list = chunks.get(reference.relatesToId) ?? [];
      list.push({ event_id: reference.eventId });
      chunks.set(reference.relatesToId, list);
    }
    for (const [parent, chunk] of chunks) add(parent, 'm.reference', { chunk });
    return out;
  }

  /** The events among `eventIds` in `roomId` that `userId` may see, by ID. */
  async #visible(roomId: string, userId: string, eventIds: readonly string[]): Promise<Map<string, RoomEvent>> {
    if (eventIds.length === 0) return new Map();
    const events = [...(await this.#queries.events(eventIds)).values()].filter((e) => e.roomId === roomId);
    const visible = await this.#queries.visibleEvents(roomId, userId, events);
    return new Map(visible.map((e) => [e.eventId, e]));
  }

  #format(event: RoomEvent): JsonObject {
    return toClientEvent(event, { format: 'client', now: this.#clock() });
  }
}

function newer(a: RoomEvent, b: RoomEvent): boolean {
  return a.originServerTs !== b.originServerTs ? a.originServerTs > b.originServerTs : a.eventId > b.eventId;
}

