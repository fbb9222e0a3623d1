// The long fuzz pass, on demand: `npm run fuzz -- --seconds 600 [--seed N] [--concurrency N]
// [--engine postgres] [--only sendMessage,createRoom]`. Starts one node, runs the
// regression corpus and then generated requests for the given time, prints the report
// (requests sent, coverage, every distinct failure with its exact request) and exits
// non-zero when anything failed.

import { parseArgs } from 'node:util';
import { startNodes } from '../rig/nodes.ts';
import { CORPUS, corpusRequest } from './corpus.ts';
import { formatReport, probeCoverage, runFuzz } from './runner.ts';
import { Sender } from './send.ts';
import { FuzzWorld } from './world.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    engine: { type: 'string', default: 'pglite' },
    only: { type: 'string' },
  },
});

const seconds = Number(values.seconds);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const engine = values.engine === 'postgres' ? 'postgres' : 'pglite';
const [node] = await startNodes(1, { tls: true, engine, startTimeoutMs: 180_000, configOverrides: { rate_limits: { enabled: false } } });
if (node === undefined) throw new Error('no node');
let exitCode = 0;
try {
  const world = await FuzzWorld.create(node);
  const probeSender = new Sender({ clientUrl: node.clientUrl, federationUrl: node.federationUrl, ca: node.caCertificate });
  const coverage = await probeCoverage(world, probeSender);
  probeSender.close();
  const only = values.only?.split(',').map((s) => s.trim());
  const endpoints = only === undefined ? coverage.served : coverage.served.filter((e) => only.some((o) => e.id.endsWith(`:${o}`) || e.id === o));
  console.log(`fuzz: seed ${seed}, ${seconds} s, ${endpoints.length} endpoints; not served: ${coverage.notServed.map((e) => e.id).join(', ')}`);
  const report = await runFuzz(world, endpoints, CORPUS.map((c) => () => corpusRequest(c, world)), {
    seed,
    durationMs: seconds * 1000,
    concurrency: Number(values.concurrency),
    log: (line) => console.log(line),
  });
  console.log(formatReport(report, coverage));
  if (report.failures.length > 0) exitCode = 1;
  await world.close();
} finally {
  await node.stop();
}
process.exit(exitCode);
