// A set of event IDs for rooms of millions of events, in flat memory: each ID is kept as the
// first 64 bits of its SHA-256 in an open-addressing table of 32-bit pairs (16 bytes per ID
// at most, against ~80 for a JS Set of strings). Two IDs share a key with probability about
// n²/2⁶⁵ — 3·10⁻⁸ for a million events — which at worst reports one false duplicate.

import { hash } from 'node:crypto';

const INITIAL_SLOTS = 1024;

export class EventIdSet {
  /** Pairs (high, low); (0, 0) marks an empty slot, so a key of (0, 0) is stored as (0, 1). */
  #table = new Uint32Array(INITIAL_SLOTS * 2);
  #slots = INITIAL_SLOTS;
  #size = 0;

  /** Adds `eventId`; false when it was already present. */
  add(eventId: string): boolean {
    const [high, low] = keyOf(eventId);
    if (this.#find(high, low) >= 0) return false;
    if ((this.#size + 1) * 2 > this.#slots) this.#grow();
    this.#insert(high, low);
    this.#size++;
    return true;
  }

  has(eventId: string): boolean {
    const [high, low] = keyOf(eventId);
    return this.#find(high, low) >= 0;
  }

  get size(): number {
    return this.#size;
  }

  #find(high: number, low: number): number {
    const mask = this.#slots - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const h = this.#table[slot * 2] ?? 0;
      const l = this.#table[slot * 2 + 1] ?? 0;
      if (h === 0 && l === 0) return -1;
      if (h === high && l === low) return slot;
    }
  }

  #insert(high: number, low: number): void {
    const mask = this.#slots - 1;
    let slot = low & mask;
    while ((this.#table[slot * 2] ?? 0) !== 0 || (this.#table[slot * 2 + 1] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.#table[slot * 2] = high;
    this.#table[slot * 2 + 1] = low;
  }

  #grow(): void {
    const old = this.#table;
    this.#slots *= 2;
    this.#table = new Uint32Array(this.#slots * 2);
    for (let i = 0; i < old.length; i += 2) {
      const high = old[i] ?? 0;
      const low = old[i + 1] ?? 0;
      if (high !== 0 || low !== 0) this.#insert(high, low);
    }
  }
}

function keyOf(eventId: string): [number, number] {
  const digest = hash('sha256', eventId, 'buffer');
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4);
  return high === 0 && low === 0 ? [0, 1] : [high, low];
}
