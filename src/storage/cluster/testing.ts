// An in-memory bus with NOTIFY's guarantees (one delivery order for every listener,
// asynchronous delivery), for tests of several processes without a PostgreSQL server.

import type { ClusterBus } from './cluster.ts';

export class MemoryHub {
  readonly #listeners = new Set<(payload: string) => void>();
  /** While paused, publishes queue up (messages "on the wire"). */
  #paused: string[] | undefined;

  bus(): ClusterBus {
    let handler: ((payload: string) => void) | undefined;
    const deliver = (payload: string) => handler?.(payload);
    return {
      listen: async (h) => {
        handler = h;
        this.#listeners.add(deliver);
      },
      publish: async (payload) => {
        if (this.#paused !== undefined) this.#paused.push(payload);
        else this.#deliver(payload);
      },
      close: async () => {
        this.#listeners.delete(deliver);
      },
    };
  }

  pause(): void {
    this.#paused ??= [];
  }

  resume(): void {
    const queued = this.#paused ?? [];
    this.#paused = undefined;
    for (const payload of queued) this.#deliver(payload);
  }

  #deliver(payload: string): void {
    const listeners = [...this.#listeners];
    setImmediate(() => {
      for (const listener of listeners) listener(payload);
    });
  }
}
