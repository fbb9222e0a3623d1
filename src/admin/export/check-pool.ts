// Runs chunk checks on worker threads, or on the calling thread when asked for none (tests,
// small bundles). Either way the signatures — two thirds of the work — are verified on
// libuv's thread pool (./check-event-line.ts), so one checking thread keeps about four
// cores busy (UV_THREADPOOL_SIZE threads, default 4): the verifier's default is one worker.
// Its point is memory more than speed: the heap of a worker has fixed limits, where the
// main thread's young generation grows as V8 sees fit (to ~100 MB more RSS at V8's
// defaults, measured), and a worker costs ~40 MB (each thread loads and compiles its own
// copy of the code). Each chunk goes to the worker with the fewest chunks outstanding;
// answers come back in any order, and the caller keeps the number in flight bounded so
// memory stays flat.

import { Worker } from 'node:worker_threads';
import type { RoomVersionRules } from '../../rooms/room-versions.ts';
import type { ExportScope, KeysFile } from './bundle-format.ts';
import { checkChunk, keyTableOf, type ChunkCheckResult, type ChunkContext } from './check-event-line.ts';
import type { WorkerInit, WorkerRequest } from './verify-worker.ts';

const WORKER_URL = new URL('./verify-worker.ts', import.meta.url);

interface PoolWorker {
  readonly worker: Worker;
  outstanding: number;
}

export class CheckPool {
  readonly #workers: PoolWorker[] = [];
  readonly #pending = new Map<number, { resolve: (r: ChunkCheckResult) => void; reject: (e: Error) => void; by: PoolWorker }>();
  readonly #stateContext: ChunkContext;
  readonly #eventsContext: ChunkContext;
  #next = 0;
  #failure: Error | undefined;

  constructor(rules: RoomVersionRules, keys: KeysFile, scope: ExportScope, workerCount: number) {
    const table = keyTableOf(keys);
    this.#stateContext = { rules, keys: table };
    this.#eventsContext = { rules, keys: table, scope };
    const init: WorkerInit = { roomVersion: rules.id, keys, scope };
    for (let i = 0; i < workerCount; i++) {
      // Small heaps: a worker holds a few chunks (each a few hundred KB of text, a PDU
      // being at most 64 KB), and the verifier's memory should stay flat. Limits this small
      // cost no measurable speed here; 32 MB of old generation cost ~12 MB more peak RSS.
      const worker = new Worker(WORKER_URL, { workerData: init, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } });
      const entry: PoolWorker = { worker, outstanding: 0 };
      worker.on('message', (message: { id: number; result: ChunkCheckResult }) => {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        entry.outstanding--;
        waiter?.resolve(message.result);
      });
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => {
        if (this.#pending.size > 0) this.#fail(new Error(`a verifier worker exited (code ${code}) with chunks outstanding`));
      });
      this.#workers.push(entry);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  /**
   * Checks a chunk of whole lines; `events` for events.jsonl. The chunk's memory is handed
   * to the worker (transferred): the caller must not use it afterwards.
   */
  check(chunk: Uint8Array, events: boolean): Promise<ChunkCheckResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const context = events ? this.#eventsContext : this.#stateContext;
    let target: PoolWorker | undefined;
    for (const entry of this.#workers) if (target === undefined || entry.outstanding < target.outstanding) target = entry;
    if (target === undefined) return checkChunk(chunk, context);
    const id = this.#next++;
    const by = target;
    by.outstanding++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, by });
      const request: WorkerRequest = { id, chunk, events };
      const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
      by.worker.postMessage(request, whole ? [chunk.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#pending.values()) waiter.reject(error);
    this.#pending.clear();
  }
}
