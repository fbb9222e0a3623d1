// A worker thread of the export verifier: checks chunks of a bundle file with the bundle's
// keys (./check-event-line.ts) — parsing, canonical JSON, hashes, its signatures verified
// on libuv's thread pool — so the main thread only reads the files and does what needs
// the lines in order.
// Chunks arrive as transferred bytes and results go back with their typed arrays
// transferred: nothing is copied per line between the threads.

import { parentPort, workerData } from 'node:worker_threads';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { ExportScope, KeysFile } from './bundle-format.ts';
import { checkChunk, keyTableOf, transferablesOf, type ChunkContext } from './check-event-line.ts';

export interface WorkerInit {
  readonly roomVersion: string;
  readonly keys: KeysFile;
  readonly scope: ExportScope;
}

export interface WorkerRequest {
  readonly id: number;
  readonly chunk: Uint8Array;
  /** events.jsonl: scope checks and the in-order data too. */
  readonly events: boolean;
}

const init = workerData as WorkerInit;
const rules = roomVersionRules(init.roomVersion);
if (rules === undefined) throw new Error(`unsupported room version ${init.roomVersion}`);
const keys = keyTableOf(init.keys);
const stateContext: ChunkContext = { rules, keys };
const eventsContext: ChunkContext = { rules, keys, scope: init.scope };

parentPort?.on('message', (request: WorkerRequest) => {
  void checkChunk(request.chunk, request.events ? eventsContext : stateContext).then((result) => {
    parentPort?.postMessage({ id: request.id, result }, transferablesOf(result));
  });
});
