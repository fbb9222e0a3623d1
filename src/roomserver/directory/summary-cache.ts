// Room summaries kept between directory requests: /publicRooms summarises every published
// room on each call (clients search as the user types), which costs a state read per room.
// A room's entry is dropped whenever the roomserver announces an event in it (state,
// membership and redactions all arrive that way); a read that raced such an event is not
// stored, and entries expire anyway after a minute.

import type { RoomSummary } from './summary.ts';

const TTL_MS = 60_000;
const MAX_ENTRIES = 20_000;

export class SummaryCache {
  readonly #entries = new Map<string, { readonly summary: RoomSummary; readonly expiresAt: number }>();
  /** Bumped per room on every announced event, so a read can tell it went stale meanwhile. */
  readonly #generations = new Map<string, number>();
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  get(roomId: string): RoomSummary | undefined {
    const entry = this.#entries.get(roomId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock()) {
      this.#entries.delete(roomId);
      return undefined;
    }
    return entry.summary;
  }

  /** Taken before reading a room, handed back to `set`. */
  generation(roomId: string): number {
    return this.#generations.get(roomId) ?? 0;
  }

  set(summary: RoomSummary, generation: number): void {
    if (this.generation(summary.roomId) !== generation) return;
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(summary.roomId, { summary, expiresAt: this.#clock() + TTL_MS });
  }

  invalidate(roomId: string): void {
    this.#generations.set(roomId, this.generation(roomId) + 1);
    this.#entries.delete(roomId);
  }
}
