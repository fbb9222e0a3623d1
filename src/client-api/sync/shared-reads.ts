// Reads that the syncs woken by one event have in common. One message into a room of N
// users wakes every long-poll of those users at once, and each computes its response up to
// the same stream position: the room's new events, the event before them (for the state at
// the timeline start) and the events the state delta names are the same for all of them.
// Reading them once per position, instead of once per waiter, is what lets the fan-out
// scale (a PGlite database answers one query at a time).
//
// Shared only between builds up to the same position `to`: a new event moves `to` on and
// starts a fresh set, so nothing read here outlives the position it was read at (an event
// redacted later is read again by the builds that can see the redaction). A build for an
// older position than the newest (one that started just before the event) reads on its own.

import type { Roomserver, RoomEvent, EventsInRangeQuery } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { EventLoader } from './events.ts';

/** What /sync reads of the room history; the Roomserver itself, or the shared reads. */
export type HistoryReader = Pick<Roomserver, 'eventsInRange' | 'stateAt'>;

export interface Reads {
  readonly history: HistoryReader;
  readonly loader: EventLoader;
}

/** Ranges remembered per position; past this, reads are no longer shared (a bound, not a goal). */
const MAX_RANGES = 1024;

export class SharedReads {
  readonly #roomserver: Roomserver;
  readonly #db: StoaDatabase;
  #position = -1;
  #ranges = new Map<string, Promise<RoomEvent[]>>();
  #loader: EventLoader;

  constructor(roomserver: Roomserver, db: StoaDatabase) {
    this.#roomserver = roomserver;
    this.#db = db;
    this.#loader = new EventLoader(db);
  }

  /** The reads for a build up to `position` (the events stream's `to`). */
  at(position: number): Reads {
    if (position > this.#position) {
      this.#position = position;
      this.#ranges = new Map();
      this.#loader = new EventLoader(this.#db);
    }
    if (position < this.#position) return this.private();
    const ranges = this.#ranges;
    const roomserver = this.#roomserver;
    return {
      loader: this.#loader,
      history: {
        stateAt: (eventId, at) => roomserver.stateAt(eventId, at),
        eventsInRange: async (query: EventsInRangeQuery) => {
          const key = JSON.stringify([query.roomId, query.fromStream, query.toStream, query.limit, query.direction]);
          let rows = ranges.get(key);
          if (rows === undefined) {
            rows = roomserver.eventsInRange(query);
            if (ranges.size < MAX_RANGES) {
              ranges.set(key, rows);
              rows.catch(() => ranges.delete(key));
            }
          }
          // A copy: callers may reorder the list; the events themselves are only read.
          return [...(await rows)];
        },
      },
    };
  }

  /** Reads of one build alone (initial syncs: nothing to share, and much to hold). */
  private(): Reads {
    return { history: this.#roomserver, loader: new EventLoader(this.#db) };
  }
}
