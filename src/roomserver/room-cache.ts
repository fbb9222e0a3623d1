// Committed events kept between a room's writes, so a send does not read the events its
// new event builds on (prev events, auth events, the state the auth rules look at) again.
//
// Stored events never change except for one column, `redacted_by`, which only a write to
// the same room sets (the pipeline, under the room's lock). Writes of this process publish
// what they read and wrote after commit and drop what they redacted. Writes of another
// process sharing the database are noticed under the room's lock: every write that can mark
// a redaction stores an event with a new stream position, so when the room's highest stream
// position is not the one this process last saw, the room's cached events are dropped.

import type { LoadedEvent, SharedEvents } from './event-cache.ts';

interface Entry {
  readonly roomId: string;
  readonly event: LoadedEvent;
}

/** Enough for the auth events and latest events of the rooms being written to (a few KB each). */
const DEFAULT_CAPACITY = 2048;

export class RoomEventCache {
  readonly #capacity: number;
  /** Least recently used first. */
  readonly #events = new Map<string, Entry>();
  readonly #byRoom = new Map<string, Set<string>>();
  /** Per room: its highest stream position when this process last wrote to or checked it. */
  readonly #seen = new Map<string, number>();

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  /**
   * Called under the room's lock with the room's highest stream position: drops the room's
   * events when someone else wrote to it since. Returns the room's events for reading.
   */
  validate(roomId: string, maxStreamOrdering: number): SharedEvents {
    if (this.#seen.get(roomId) !== maxStreamOrdering) {
      this.#forgetRoom(roomId);
      this.#seen.set(roomId, maxStreamOrdering);
    }
    return { get: (eventId) => this.#get(roomId, eventId) };
  }

  /**
   * After a committed write to `roomId`: keeps the events the write loaded and stored (of
   * that room), drops those it redacted, and records the room's new highest position.
   */
  publish(roomId: string, events: Iterable<LoadedEvent>, redacted: Iterable<string>, allocated: readonly number[]): void {
    const redactedSet = new Set(redacted);
    for (const id of redactedSet) this.#delete(id);
    const known = this.#seen.get(roomId);
    if (allocated.length > 0) {
      if (known === undefined) {
        // Never validated: what the write read was not checked against other writers.
        this.#forgetRoom(roomId);
        return;
      }
      this.#seen.set(roomId, Math.max(known, ...allocated));
    } else if (known === undefined) {
      return;
    }
    for (const event of events) {
      const { eventId, roomId: eventRoom } = event.stored;
      if (eventRoom !== roomId || redactedSet.has(eventId)) continue;
      this.#events.delete(eventId);
      this.#events.set(eventId, { roomId, event });
      let ids = this.#byRoom.get(roomId);
      if (ids === undefined) this.#byRoom.set(roomId, (ids = new Set()));
      ids.add(eventId);
    }
    while (this.#events.size > this.#capacity) {
      const oldest = this.#events.keys().next();
      if (oldest.done === true) break;
      this.#delete(oldest.value);
    }
  }

  /** After a write whose effects are unknown (failed commit) or not tracked. */
  forget(roomId: string): void {
    this.#forgetRoom(roomId);
  }

  /**
   * A cached event of any room, without the check against other writers: for reading
   * only what never changes once stored (everything but `redactedBy` and the redacted view).
   */
  peek(eventId: string): LoadedEvent | undefined {
    return this.#events.get(eventId)?.event;
  }

  get size(): number {
    return this.#events.size;
  }

  #get(roomId: string, eventId: string): LoadedEvent | undefined {
    const entry = this.#events.get(eventId);
    if (entry === undefined || entry.roomId !== roomId) return undefined;
    this.#events.delete(eventId);
    this.#events.set(eventId, entry);
    return entry.event;
  }

  #delete(eventId: string): void {
    const entry = this.#events.get(eventId);
    if (entry === undefined) return;
    this.#events.delete(eventId);
    const ids = this.#byRoom.get(entry.roomId);
    ids?.delete(eventId);
    if (ids?.size === 0) this.#byRoom.delete(entry.roomId);
  }

  #forgetRoom(roomId: string): void {
    this.#seen.delete(roomId);
    for (const id of this.#byRoom.get(roomId) ?? []) this.#events.delete(id);
    this.#byRoom.delete(roomId);
  }
}
