// A set of event IDs for rooms of millions of events, in flat memory: each ID is kept as the
// first 64 bits of its SHA-256 in an open-addressing table of 32-bit pairs, at most three
// quarters full (11 bytes per ID at most, against ~80 for a JS Set of strings). Two IDs
// share a key with probability about n²/2⁶⁵ — 3·10⁻⁸ for a million events — which at worst
// reports one false duplicate.

import { hash } from 'node:crypto';

const INITIAL_SLOTS = 1024;
/** Pre-sizing stops here (32 MB of table): an expected size is a hint, maybe from untrusted input. */
const MAX_PRESIZED_SLOTS = 1 << 22;
/** Linear probing stays short (2.5 probes on average to find a present key) up to this load. */
const MAX_LOAD = 0.75;

export class EventIdSet {
  /** Pairs (high, low); (0, 0) marks an empty slot, so a key of (0, 0) is stored as (0, 1). */
  #table: Uint32Array;
  #slots: number;
  #size = 0;

  /** `expected`: about how many IDs will be added, so the table need not grow (and copy) on the way. */
  constructor(expected = 0) {
    const wanted = Math.ceil(expected / MAX_LOAD) + 1;
    this.#slots = wanted > INITIAL_SLOTS ? Math.min(wanted, MAX_PRESIZED_SLOTS) : INITIAL_SLOTS;
    this.#table = new Uint32Array(this.#slots * 2);
  }

  /** Adds `eventId`; false when it was already present. */
  add(eventId: string): boolean {
    const [high, low] = keyOf(eventId);
    return this.addKey(high, low);
  }

  has(eventId: string): boolean {
    const [high, low] = keyOf(eventId);
    return this.#find(high, low) >= 0;
  }

  /** `add` with the ID's key already computed (`writeEventIdKey`, e.g. on another thread). */
  addKey(high: number, low: number): boolean {
    if (this.#find(high, low) >= 0) return false;
    if (this.#size + 1 > this.#slots * MAX_LOAD) this.#grow();
    this.#insert(high, low);
    this.#size++;
    return true;
  }

  hasKey(high: number, low: number): boolean {
    return this.#find(high, low) >= 0;
  }

  get size(): number {
    return this.#size;
  }

  #find(high: number, low: number): number {
    const table = this.#table;
    const slots = this.#slots;
    // The key is already a uniform hash: its low word picks the first slot to probe.
    for (let slot = low % slots; ; slot = slot + 1 === slots ? 0 : slot + 1) {
      const h = table[slot * 2] ?? 0;
      const l = table[slot * 2 + 1] ?? 0;
      if (h === 0 && l === 0) return -1;
      if (h === high && l === low) return slot;
    }
  }

  #insert(high: number, low: number): void {
    const table = this.#table;
    const slots = this.#slots;
    let slot = low % slots;
    while ((table[slot * 2] ?? 0) !== 0 || (table[slot * 2 + 1] ?? 0) !== 0) slot = slot + 1 === slots ? 0 : slot + 1;
    table[slot * 2] = high;
    table[slot * 2 + 1] = low;
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
  // A hex digest is a string, not a Buffer: no ArrayBuffer per ID for the garbage collector.
  const digest = hash('sha256', eventId, 'hex');
  const high = parseInt(digest.slice(0, 8), 16);
  const low = parseInt(digest.slice(8, 16), 16);
  return high === 0 && low === 0 ? [0, 1] : [high, low];
}

/** Writes the key of `eventId` (as `EventIdSet` keys it) at `into[2 * index]`, `into[2 * index + 1]`. */
export function writeEventIdKey(eventId: string, into: Uint32Array, index: number): void {
  const [high, low] = keyOf(eventId);
  into[2 * index] = high;
  into[2 * index + 1] = low;
}
