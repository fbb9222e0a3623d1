// The moving ends of the two E2EE streams /sync reads: to-device messages (key `d`) and
// device-list changes (key `l`). Both the client API (uploads, /sendToDevice) and federation
// (incoming EDUs) write to them, so they live below both layers. Writes run one at a time:
// positions come from a sequence inside each write's transaction, and if two overlapped the
// later position could commit first and a reader at it would skip the earlier one for good.
// Listeners (the /sync notifier) hear of a position only once its write has committed.
//
// Structurally a `StreamSource` (src/client-api/sync/stream-source.ts).

import type { Cluster } from './cluster/cluster.ts';
import { SharedStream } from './cluster/shared-stream.ts';
import type { StoaDatabase } from './database.ts';
import { E2eeDeviceListsRepository } from './e2ee-device-lists-repository.ts';
import { E2eeToDeviceRepository } from './e2ee-to-device-repository.ts';

/** Whose long-polls a write concerns (`AdvanceScope` of the sync notifier). */
export interface E2eeStreamScope {
  readonly users?: readonly string[];
}

export type E2eeStreamListener = (position: number, scope?: E2eeStreamScope) => void;

export class E2eeStream {
  readonly streamKey: string;
  #position = 0;
  readonly #listeners = new Set<E2eeStreamListener>();
  #tail: Promise<unknown> = Promise.resolve();
  readonly #ready: Promise<void>;
  /** Set when several processes write the stream (DESIGN.md "Scale"). */
  readonly #shared: SharedStream | undefined;

  constructor(streamKey: string, initialPosition: () => Promise<number>, cluster?: Cluster) {
    this.streamKey = streamKey;
    if (cluster?.shared === true) {
      this.#shared = new SharedStream(cluster, streamKey, 0);
      this.#shared.onAdvance((position, scope) => {
        for (const listener of [...this.#listeners]) listener(position, scope);
      });
    }
    this.#ready = this.#serial(async () => {
      this.#position = Math.max(this.#position, await initialPosition());
      this.#shared?.initialise(this.#position);
    });
    // Writers await it and see the error; this only keeps it from being unhandled.
    this.#ready.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  currentPosition(): number {
    return this.#shared?.currentPosition() ?? this.#position;
  }

  onAdvance(listener: E2eeStreamListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs `write` after every earlier write; when it returns a position, the stream advances
   * to it and the listeners hear of it with `scope`.
   */
  async write<T>(write: () => Promise<{ readonly position: number | undefined; readonly scope?: E2eeStreamScope; readonly result: T }>): Promise<T> {
    await this.#ready;
    return this.#serial(async () => {
      const release = this.#shared?.reserve();
      try {
        const outcome = await write();
        if (outcome.position !== undefined && outcome.position > this.#position) {
          this.#position = outcome.position;
          if (this.#shared !== undefined) this.#shared.committed(outcome.position, outcome.scope);
          else for (const listener of [...this.#listeners]) listener(outcome.position, outcome.scope);
        }
        return outcome.result;
      } finally {
        release?.();
      }
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

export interface E2eeStreams {
  readonly toDevice: E2eeStream;
  readonly deviceLists: E2eeStream;
}

export const TO_DEVICE_STREAM_KEY = 'd';
export const DEVICE_LISTS_STREAM_KEY = 'l';

/** The two streams over one database, each starting at its stored maximum. */
export function createE2eeStreams(db: StoaDatabase, cluster?: Cluster): E2eeStreams {
  const toDevice = new E2eeToDeviceRepository(db.kysely);
  const deviceLists = new E2eeDeviceListsRepository(db.kysely);
  return {
    toDevice: new E2eeStream(TO_DEVICE_STREAM_KEY, () => toDevice.maxStreamId(), cluster),
    deviceLists: new E2eeStream(DEVICE_LISTS_STREAM_KEY, () => deviceLists.maxStreamId(), cluster),
  };
}
