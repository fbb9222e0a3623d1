// The moving end of one stream: its current position and the long-polls waiting on it.
// Writers of a stream advance it only after their write committed, and one write at a time
// (see SerialWriter), so every position at or below `current` is readable. When several
// processes share the database (share()), the position is the cluster's safe position and
// the others' writes wake this process's long-polls too.

import type { Cluster } from '../../storage/cluster/cluster.ts';
import { SharedStream } from '../../storage/cluster/shared-stream.ts';
import type { AdvanceScope, StreamSource } from '../sync/stream-source.ts';

type Listener = (position: number, scope?: AdvanceScope) => void;

export class StreamPosition implements StreamSource {
  readonly streamKey: string;
  #position: number;
  readonly #listeners = new Set<Listener>();
  #shared: SharedStream | undefined;
  #initialised = false;

  constructor(streamKey: string, initial = 0) {
    this.streamKey = streamKey;
    this.#position = initial;
  }

  /** Makes this a stream several processes write (before its start is read). */
  share(cluster: Cluster): void {
    if (this.#shared !== undefined || !cluster.shared) return;
    const shared = new SharedStream(cluster, this.streamKey, this.#position);
    shared.onAdvance((position, scope) => {
      for (const listener of [...this.#listeners]) listener(position, scope);
    });
    this.#shared = shared;
  }

  currentPosition(): number {
    return this.#shared?.currentPosition() ?? this.#position;
  }

  onAdvance(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Marks a write under way (see SerialWriter); call the result when it ended. */
  reserve(): () => void {
    return this.#shared?.reserve() ?? (() => undefined);
  }

  /**
   * Moves to `position` when it is ahead and wakes the listeners; never moves backwards. The
   * first call is the stream's start as read from the database.
   */
  advanceTo(position: number, scope?: AdvanceScope): void {
    const first = !this.#initialised;
    this.#initialised = true;
    if (position <= this.#position) return;
    this.#position = position;
    if (this.#shared !== undefined) {
      if (first) this.#shared.initialise(position);
      else this.#shared.committed(position, scope);
      return;
    }
    for (const listener of [...this.#listeners]) listener(position, scope);
  }
}

/**
 * Runs writes one after another. Positions come from a database sequence inside each write's
 * transaction; if two writes overlapped, the later position could commit first and a reader
 * at that position would skip the earlier one for good. Other processes' writes may still
 * overlap, which the stream's reservation covers.
 */
export class SerialWriter {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #stream: StreamPosition | undefined;

  constructor(stream?: StreamPosition) {
    this.#stream = stream;
  }

  run<T>(write: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      const release = this.#stream?.reserve();
      try {
        return await write();
      } finally {
        release?.();
      }
    };
    const result = this.#tail.then(guarded, guarded);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
