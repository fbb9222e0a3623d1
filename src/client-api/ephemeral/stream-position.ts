// The moving end of one stream: its current position and the long-polls waiting on it.
// Writers of a stream advance it only after their write committed, and one write at a time
// (see SerialWriter), so every position at or below `current` is readable.

import type { StreamSource } from '../sync/stream-source.ts';

export class StreamPosition implements StreamSource {
  readonly streamKey: string;
  #position: number;
  readonly #listeners = new Set<(position: number) => void>();

  constructor(streamKey: string, initial = 0) {
    this.streamKey = streamKey;
    this.#position = initial;
  }

  currentPosition(): number {
    return this.#position;
  }

  onAdvance(listener: (position: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Moves to `position` when it is ahead and wakes the listeners; never moves backwards. */
  advanceTo(position: number): void {
    if (position <= this.#position) return;
    this.#position = position;
    for (const listener of [...this.#listeners]) listener(position);
  }
}

/**
 * Runs writes one after another. Positions come from a database sequence inside each write's
 * transaction; if two writes overlapped, the later position could commit first and a reader
 * at that position would skip the earlier one for good.
 */
export class SerialWriter {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(write: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(write, write);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
