// A worker thread of the export verifier: checks batches of event lines with the bundle's
// keys (./check-event-line.ts) so signature verification, the costly part, uses every core.

import { parentPort, workerData } from 'node:worker_threads';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { KeysFile } from './bundle-format.ts';
import { checkEventLines, keyTableOf } from './check-event-line.ts';

export interface WorkerInit {
  readonly roomVersion: string;
  readonly keys: KeysFile;
}

export interface WorkerRequest {
  readonly id: number;
  readonly firstLine: number;
  readonly lines: readonly string[];
}

const init = workerData as WorkerInit;
const rules = roomVersionRules(init.roomVersion);
const keys = keyTableOf(init.keys);

parentPort?.on('message', (request: WorkerRequest) => {
  if (rules === undefined) throw new Error(`unsupported room version ${init.roomVersion}`);
  parentPort?.postMessage({ id: request.id, result: checkEventLines(request.lines, request.firstLine, rules, keys) });
});
