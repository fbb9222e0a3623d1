// A set of event IDs for rooms of millions of events: each ID is kept as the first 16 bytes
// of its SHA-256 (a 16-character one-byte string, about half the memory of a v4 event ID).
// 128 bits leave no practical chance of two IDs colliding.

import { createHash } from 'node:crypto';

export function compactEventId(eventId: string): string {
  return createHash('sha256').update(eventId).digest().toString('latin1', 0, 16);
}

export class EventIdSet {
  readonly #keys = new Set<string>();

  /** Adds `eventId`; false when it was already present. */
  add(eventId: string): boolean {
    const key = compactEventId(eventId);
    if (this.#keys.has(key)) return false;
    this.#keys.add(key);
    return true;
  }

  has(eventId: string): boolean {
    return this.#keys.has(compactEventId(eventId));
  }

  get size(): number {
    return this.#keys.size;
  }
}
