// The short fuzz pass (issue 11: "a schema-driven fuzzer over every client and federation
// endpoint ... zero 500s, zero crashes, every response a spec error body"). One PGlite
// node, a fixed seed and a fixed time budget: the regression corpus of requests that once
// failed, then generated requests round-robin over every endpoint of endpoints.json the
// node serves. `npm run fuzz -- --seconds 600` is the long pass (spec-tests/fuzz/run-long.ts).
// Spec: client-server § "Standard error response"; server-server § "Request Authentication".

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CORPUS, corpusRequest } from './fuzz/corpus.ts';
import { formatReport, NodeWatch, probeCoverage, runFuzz, sendAndJudge, type Coverage, type FuzzReport } from './fuzz/runner.ts';
import { Sender } from './fuzz/send.ts';
import { FuzzWorld } from './fuzz/world.ts';
import { request } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectSpecResponse } from './rig/openapi.ts';

const SEED = 20_261_111;
const FUZZ_SECONDS = Number(process.env['STOA_FUZZ_SECONDS'] ?? '30');

let nodes: TestNode[] = [];
let world: FuzzWorld | undefined;
let coverage: Coverage;

before(async () => {
  nodes = await startNodes(1, { tls: true, startTimeoutMs: 120_000, configOverrides: { rate_limits: { enabled: false } } });
  world = await FuzzWorld.create(nodes[0]!);
  const sender = new Sender({ clientUrl: nodes[0]!.clientUrl, federationUrl: nodes[0]!.federationUrl, ca: nodes[0]!.caCertificate });
  try {
    coverage = await probeCoverage(world, sender);
  } finally {
    sender.close();
  }
});

after(async () => {
  await world?.close();
  await stopNodes(nodes);
});

test('fuzz: the regression corpus, request by request (each once answered 5xx or a bare 400)', async () => {
  const node = nodes[0]!;
  const sender = new Sender({ clientUrl: node.clientUrl, federationUrl: node.federationUrl, ca: node.caCertificate });
  const watch = new NodeWatch(node);
  try {
    for (const entry of CORPUS) {
      const result = await sendAndJudge(sender, corpusRequest(entry, world!), watch);
      assert.equal(result.failure, undefined, `${entry.name}: ${result.failure?.detail ?? ''}\n${result.failure?.log ?? ''}`);
      assert.notEqual(result.status, undefined, `${entry.name}: no response`);
    }
  } finally {
    sender.close();
  }
});

test('fuzz: every served endpoint of endpoints.json, mutated — no 5xx, no crash, every 4xx a Matrix error', { timeout: (FUZZ_SECONDS + 60) * 1000 }, async () => {
  const node = nodes[0]!;
  // The node must serve most of the spec's surface for the pass to mean anything.
  assert.ok(coverage.served.length >= 100, `only ${coverage.served.length} endpoints served`);
  const report: FuzzReport = await runFuzz(world!, coverage.served, [], { seed: SEED, durationMs: FUZZ_SECONDS * 1000, concurrency: 4 });
  console.log(formatReport(report, coverage));
  assert.ok(report.requestsSent >= coverage.served.length, `only ${report.requestsSent} requests sent`);
  assert.deepEqual(report.failures.map((f) => `${f.kind} ${f.request.operation} (${f.request.mutation})`), [], formatReport(report, coverage));

  // Still up, and still answering correctly.
  const versions = await request(`${node.clientUrl}/_matrix/client/versions`);
  expectSpecResponse(versions, 'getVersions');
  const exited = await Promise.race([node.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10))]);
  assert.equal(exited, false, 'the node process exited');
});
