// One resolution loads each event at most once: the steps revisit the same auth events
// (power levels, create, join rules) many times, and the caller's loader may be slow.

import type { EventView } from '../event-view.ts';
import type { LoadEvent } from './types.ts';

export class EventCache {
  readonly #load: LoadEvent;
  readonly #events = new Map<string, EventView | undefined>();

  constructor(load: LoadEvent) {
    this.#load = load;
  }

  get(eventId: string): EventView | undefined {
    if (this.#events.has(eventId)) return this.#events.get(eventId);
    let event: EventView | undefined;
    try {
      event = this.#load(eventId);
    } catch {
      // A loader that throws is treated like one that does not have the event:
      // resolution ignores events it cannot see rather than failing the room.
      event = undefined;
    }
    // An event whose ID does not match what was asked for cannot be trusted in its place.
    if (event !== undefined && event.eventId !== eventId) event = undefined;
    this.#events.set(eventId, event);
    return event;
  }

  /** Number of distinct events asked of the loader ("events touched"). */
  get touched(): number {
    return this.#events.size;
  }
}
