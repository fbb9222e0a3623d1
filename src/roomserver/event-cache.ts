// Stored events as the auth rules and state resolution read them, loaded in batches (the
// protocol core's loaders are synchronous). Events redacted by an applied redaction are
// read redacted, as other servers see them.

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

export class EventCache {
  readonly #store: RoomStore;
  readonly #events = new Map<string, LoadedEvent>();
  readonly #missing = new Set<string>();

  constructor(store: RoomStore) {
    this.#store = store;
  }

  /** Loads whichever of `eventIds` are not cached yet. */
  async load(eventIds: Iterable<string>): Promise<void> {
    const wanted = [...new Set(eventIds)].filter((id) => !this.#events.has(id) && !this.#missing.has(id));
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

  isRejected(eventId: string): boolean {
    return (this.#events.get(eventId)?.stored.rejectedReason ?? null) !== null;
  }
}

export function loaded(stored: StoredEvent): LoadedEvent {
  const rules = roomVersionRules(stored.roomVersion);
  if (rules === undefined) throw new Error(`stored event ${stored.eventId} has unknown room version ${stored.roomVersion}`);
  const json = JSON.parse(stored.json) as JsonObject;
  const readable = stored.redactedBy === null ? json : redactEvent(json, rules);
  return { stored, rules, json, view: toEventView(readable, rules, stored.eventId) };
}
