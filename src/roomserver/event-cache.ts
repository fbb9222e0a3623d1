// Stored events as the auth rules and state resolution read them, loaded in batches (the
// protocol core's loaders are synchronous). Events redacted by an applied redaction are
// read redacted, as other servers see them.
//
// An operation's cache may read through to its room's long-lived cache (./room-cache.ts):
// what the operation loads or stores stays private to it until its transaction commits,
// and is published to the room's cache only then, so a rollback leaves nothing behind.

import type { EventView } from '../rooms/event-view.ts';
import type { JsonObject } from '../rooms/json.ts';
import { toEventView } from '../rooms/pdu/view.ts';
import { redactEvent } from '../rooms/redaction.ts';
import { roomVersionRules, type RoomVersionRules } from '../rooms/room-versions.ts';
import type { RoomStore, StoredEvent } from '../storage/index.ts';

export interface LoadedEvent {
  readonly stored: StoredEvent;
  readonly rules: RoomVersionRules;
  /** The stored JSON, parsed. */
  readonly json: JsonObject;
  readonly view: EventView;
}

/** Committed events of one room, shared between operations (see ./room-cache.ts). */
export interface SharedEvents {
  get(eventId: string): LoadedEvent | undefined;
}

export class EventCache {
  readonly #store: RoomStore;
  readonly #shared: SharedEvents | undefined;
  readonly #events = new Map<string, LoadedEvent>();
  readonly #missing = new Set<string>();
  /** Events this operation marked redacted: their cached copies read as before the mark. */
  readonly #redacted = new Set<string>();

  constructor(store: RoomStore, shared?: SharedEvents) {
    this.#store = store;
    this.#shared = shared;
  }

  /** Loads whichever of `eventIds` are not cached yet. */
  async load(eventIds: Iterable<string>): Promise<void> {
    const wanted: string[] = [];
    for (const id of new Set(eventIds)) {
      if (this.#events.has(id) || this.#missing.has(id)) continue;
      const shared = this.#redacted.has(id) ? undefined : this.#shared?.get(id);
      if (shared !== undefined) this.#events.set(id, shared);
      else wanted.push(id);
    }
    for (let i = 0; i < wanted.length; i += 500) {
      const slice = wanted.slice(i, i + 500);
      const found = new Set<string>();
      for (const stored of await this.#store.events.byIds(slice)) {
        this.#events.set(stored.eventId, loaded(stored));
        found.add(stored.eventId);
      }
      for (const id of slice) if (!found.has(id)) this.#missing.add(id);
    }
  }

  get(eventId: string): LoadedEvent | undefined {
    return this.#events.get(eventId);
  }

  view(eventId: string): EventView | undefined {
    return this.#events.get(eventId)?.view;
  }

  /** Adds an event just persisted, so later steps of the same operation see it. */
  put(event: LoadedEvent): void {
    this.#missing.delete(event.stored.eventId);
    this.#events.set(event.stored.eventId, event);
  }

  /**
   * An event this operation marked redacted. Its copy here stays as it was (the rest of the
   * operation reads it as before), but it must not be shared: see `redactedEvents`.
   */
  redacted(eventId: string): void {
    this.#redacted.add(eventId);
  }

  isRejected(eventId: string): boolean {
    return (this.#events.get(eventId)?.stored.rejectedReason ?? null) !== null;
  }

  /** Every event this operation loaded or stored, to publish once its transaction committed. */
  get loadedEvents(): IterableIterator<LoadedEvent> {
    return this.#events.values();
  }

  /** Events whose shared copies are stale once this operation committed. */
  get redactedEvents(): ReadonlySet<string> {
    return this.#redacted;
  }
}

export function loaded(stored: StoredEvent, json?: JsonObject): LoadedEvent {
  const rules = roomVersionRules(stored.roomVersion);
  if (rules === undefined) throw new Error(`stored event ${stored.eventId} has unknown room version ${stored.roomVersion}`);
  const parsed = json ?? (JSON.parse(stored.json) as JsonObject);
  const readable = stored.redactedBy === null ? parsed : redactEvent(parsed, rules);
  return { stored, rules, json: parsed, view: toEventView(readable, rules, stored.eventId) };
}
