// Loading room events in batches and shaping them for /sync (client-server § "Room Event
// Format", definitions/client_event_without_room_id.yaml): the client view applies an
// applied redaction (with `unsigned.redacted_because`), adds `unsigned.age`, and adds
// `unsigned.transaction_id` only for the device that sent the event (§ "Transaction
// identifiers"). One query per batch, not one per event: a full-state initial sync of a
// large room reads thousands of state events.

import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { redactEvent } from '../../rooms/redaction.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import { EventsRepository, type StoaDatabase, type StoredEvent, type SyncRepository } from '../../storage/index.ts';
import type { BundledAggregator } from '../formatting/bundled-aggregations.ts';
import { projectEventFields, type SyncFilter } from '../filters/sync-filter.ts';
import { clientContent, redactsOf } from '../formatting/client-event.ts';
import { clientTransactionId } from '../formatting/transaction-id.ts';

export interface LoadedEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly streamOrdering: number | null;
  readonly originServerTs: number;
  /** The event as stored (federation format), redacted when a redaction applies. */
  readonly json: JsonObject;
  readonly redactedBy: string | null;
}

export class EventLoader {
  readonly #events: EventsRepository;
  readonly #cache = new Map<string, LoadedEvent>();
  /** Reads in flight by event ID: builds sharing a loader wait for one read, not one each. */
  readonly #reading = new Map<string, Promise<void>>();

  constructor(db: StoaDatabase) {
    this.#events = new EventsRepository(db.kysely);
  }

  /** The events among `ids` that are stored, by ID (cached for the loader's lifetime). */
  async load(ids: Iterable<string>): Promise<Map<string, LoadedEvent>> {
    const wanted = [...new Set(ids)];
    const missing = wanted.filter((id) => !this.#cache.has(id) && !this.#reading.has(id));
    if (missing.length > 0) {
      const reading = this.#read(missing);
      const done = () => {
        for (const id of missing) this.#reading.delete(id);
      };
      reading.then(done, done);
      for (const id of missing) this.#reading.set(id, reading);
    }
    const waits = new Set<Promise<void>>();
    for (const id of wanted) {
      const reading = this.#reading.get(id);
      if (reading !== undefined) waits.add(reading);
    }
    await Promise.all(waits);
    const out = new Map<string, LoadedEvent>();
    for (const id of wanted) {
      const event = this.#cache.get(id);
      if (event !== undefined) out.set(id, event);
    }
    return out;
  }

  async #read(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      for (const stored of await this.#events.byIds(ids.slice(i, i + 500))) {
        this.#cache.set(stored.eventId, loaded(stored));
      }
    }
  }
}

function loaded(stored: StoredEvent): LoadedEvent {
  const json = JSON.parse(stored.json) as JsonObject;
  const rules = roomVersionRules(stored.roomVersion);
  return {
    eventId: stored.eventId,
    roomId: stored.roomId,
    type: stored.type,
    stateKey: stored.stateKey ?? undefined,
    sender: stored.sender,
    streamOrdering: stored.streamOrdering,
    originServerTs: stored.originServerTs,
    json: stored.redactedBy !== null && rules !== undefined ? redactEvent(json, rules) : json,
    redactedBy: stored.redactedBy,
  };
}

export interface FormatContext {
  readonly now: number;
  readonly filter: SyncFilter;
  /** Transaction IDs of events the requesting device sent, by event ID. */
  readonly transactionIds?: ReadonlyMap<string, string>;
  /** Redaction events by ID, for `unsigned.redacted_because`. */
  readonly redactions?: ReadonlyMap<string, LoadedEvent>;
  /** Bundled aggregations (`unsigned["m.relations"]`) by event ID. */
  readonly relations?: ReadonlyMap<string, JsonObject>;
}

/** The client format without `room_id` (sync.yaml uses client_event_without_room_id). */
export function formatSyncEvent(event: LoadedEvent, ctx: FormatContext): JsonObject {
  if (ctx.filter.eventFormat === 'federation') return project(event.json, ctx.filter);
  const out: JsonObject = {
    event_id: event.eventId,
    type: event.type,
    content: clientContent(event.type, event.json),
    sender: event.sender,
    origin_server_ts: event.originServerTs,
  };
  if (event.stateKey !== undefined) out['state_key'] = event.stateKey;
  const redacts = redactsOf(event.type, event.json);
  if (redacts !== undefined) out['redacts'] = redacts;
  const unsigned: JsonObject = { age: Math.max(0, ctx.now - event.originServerTs) };
  const txnId = ctx.transactionIds?.get(event.eventId);
  if (txnId !== undefined) unsigned['transaction_id'] = clientTransactionId(txnId);
  const redaction = event.redactedBy === null ? undefined : ctx.redactions?.get(event.redactedBy);
  if (redaction !== undefined) unsigned['redacted_because'] = formatSyncEvent(redaction, { ...ctx, redactions: new Map() });
  const relations = ctx.relations?.get(event.eventId);
  if (relations !== undefined) unsigned['m.relations'] = relations;
  out['unsigned'] = unsigned;
  return project(out, ctx.filter);
}

/** Stripped state (client-server § "Stripped state"): type, state_key, sender and content. */
export function strippedStateEvent(event: { type: string; stateKey: string | undefined; sender: string; json: JsonObject }): JsonObject {
  return {
    type: event.type,
    state_key: event.stateKey ?? '',
    sender: event.sender,
    content: isJsonObject(event.json['content']) ? event.json['content'] : {},
  };
}

function project(event: JsonObject, filter: SyncFilter): JsonObject {
  return filter.eventFields === undefined ? event : projectEventFields(event, filter.eventFields);
}

/** A roomserver event as the sync formatter takes it. */
export function toLoaded(event: RoomEvent): LoadedEvent {
  return {
    eventId: event.eventId,
    roomId: event.roomId,
    type: event.type,
    stateKey: event.stateKey,
    sender: event.sender,
    streamOrdering: event.streamOrdering,
    originServerTs: event.originServerTs,
    json: event.json,
    redactedBy: event.redactedBy,
  };
}

export interface FormatContextSources {
  readonly repo: Pick<SyncRepository, 'transactionIds'>;
  readonly loader: EventLoader;
  readonly aggregations: BundledAggregator | undefined;
}

/**
 * What formatting a room's timeline needs beyond the events (/sync and sliding sync alike):
 * the requesting device's transaction IDs, the redactions behind `redacted_because`, and
 * bundled aggregations.
 */
export async function formatContextFor(
  sources: FormatContextSources,
  request: { readonly roomId: string; readonly userId: string; readonly deviceId: string | undefined; readonly now: number; readonly filter: SyncFilter },
  timeline: readonly LoadedEvent[],
): Promise<FormatContext> {
  const { roomId, userId, deviceId } = request;
  const own = timeline.filter((e) => e.sender === userId).map((e) => e.eventId);
  const transactionIds = deviceId === undefined || own.length === 0
    ? new Map<string, string>()
    : await sources.repo.transactionIds(roomId, userId, deviceId, own);
  const redactionIds = timeline.map((e) => e.redactedBy).filter((id): id is string => id !== null);
  const redactions = redactionIds.length === 0 ? new Map<string, LoadedEvent>() : await sources.loader.load(redactionIds);
  const relations = sources.aggregations === undefined || timeline.length === 0
    ? undefined
    : await sources.aggregations.aggregate(roomId, timeline, userId);
  return { now: request.now, filter: request.filter, transactionIds, redactions, ...(relations === undefined ? {} : { relations }) };
}
