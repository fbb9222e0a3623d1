// Runs event-line checks on a pool of worker threads, or inline when asked for none (tests,
// small bundles, one-core machines). Batches are answered in any order; the caller keeps
// the number in flight bounded so memory stays flat.

import { Worker } from 'node:worker_threads';
import type { RoomVersionRules } from '../../rooms/room-versions.ts';
import type { KeysFile } from './bundle-format.ts';
import { checkEventLines, keyTableOf, type EventCheckResult, type KeyTable } from './check-event-line.ts';
import type { WorkerInit, WorkerRequest } from './verify-worker.ts';

const WORKER_URL = new URL('./verify-worker.ts', import.meta.url);

export class CheckPool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, { resolve: (r: EventCheckResult) => void; reject: (e: Error) => void }>();
  readonly #rules: RoomVersionRules;
  readonly #keys: KeyTable;
  #next = 0;
  #failure: Error | undefined;

  constructor(rules: RoomVersionRules, keys: KeysFile, workerCount: number) {
    this.#rules = rules;
    this.#keys = keyTableOf(keys);
    const init: WorkerInit = { roomVersion: rules.id, keys };
    for (let i = 0; i < workerCount; i++) {
      // Small heaps: a worker holds one batch at a time, and the export's memory should stay flat.
      const worker = new Worker(WORKER_URL, { workerData: init, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 } });
      worker.on('message', (message: { id: number; result: EventCheckResult }) => {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        waiter?.resolve(message.result);
      });
      worker.on('error', (error) => this.#fail(error));
      this.#workers.push(worker);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  check(lines: readonly string[], firstLine: number): Promise<EventCheckResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const worker = this.#workers[this.#next % Math.max(1, this.#workers.length)];
    const id = this.#next++;
    if (worker === undefined) return Promise.resolve(checkEventLines(lines, firstLine, this.#rules, this.#keys));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const request: WorkerRequest = { id, firstLine, lines };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #fail(error: Error): void {
    this.#failure = error;
    for (const waiter of this.#pending.values()) waiter.reject(error);
    this.#pending.clear();
  }
}
