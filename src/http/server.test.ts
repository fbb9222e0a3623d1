import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from 'selfsigned';
import type { JsonObject } from '../rooms/json.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { defineEndpoint } from './define-endpoint.ts';
import { startHttp } from './server.ts';
import { silentLogger, testConfig } from './testing.ts';

/** A database stand-in whose `select 1` fails, as a down PostgreSQL would. */
const brokenDb = {
  kysely: { selectNoFrom: () => ({ execute: () => Promise.reject(new Error('connection refused')) }) },
} as unknown as Pick<StoaDatabase, 'kysely'>;

/** A database stand-in whose `select 1` succeeds. */
const healthyDb = {
  kysely: { selectNoFrom: () => ({ execute: () => Promise.resolve([{ one: 1 }]) }) },
} as unknown as Pick<StoaDatabase, 'kysely'>;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// The real-database path (`select 1` on PGlite) is covered by spec-tests/foundation.test.ts,
// which boots a whole node; the HTTP layer may see storage only as types.
test('GET /health: 200 {"status":"ok"} when the database answers', async () => {
  const http = await startHttp({ config: testConfig(), logger: silentLogger(), db: healthyDb });
  try {
    const res = await fetch(`http://127.0.0.1:${http.clientPort}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  } finally {
    await http.close();
  }
});

test('GET /health: 503 when the database does not answer, without its error', async () => {
  const http = await startHttp({ config: testConfig(), logger: silentLogger(), db: brokenDb });
  try {
    const res = await fetch(`http://127.0.0.1:${http.clientPort}/health`);
    assert.equal(res.status, 503);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), { status: 'unavailable' });
    assert.doesNotMatch(text, /refused/);
  } finally {
    await http.close();
  }
});

test('client and federation listeners serve their own endpoints; unknown paths are M_UNRECOGNIZED', async () => {
  const http = await startHttp({
    config: testConfig(),
    logger: silentLogger(),
    db: healthyDb,
    endpoints: {
      client: [defineEndpoint({ method: 'GET', path: '/_matrix/client/test', auth: 'none', handler: () => ({ side: 'client' }) })],
      federation: [defineEndpoint({ method: 'GET', path: '/_matrix/federation/test', auth: 'none', handler: () => ({ side: 'federation' }) })],
    },
  });
  try {
    const client = `http://127.0.0.1:${http.clientPort}`;
    const federation = `http://127.0.0.1:${http.federationPort}`;
    assert.deepEqual(await (await fetch(`${client}/_matrix/client/test`)).json(), { side: 'client' });
    assert.deepEqual(await (await fetch(`${federation}/_matrix/federation/test`)).json(), { side: 'federation' });
    const cross = await fetch(`${federation}/_matrix/client/test`);
    assert.equal(cross.status, 404);
    assert.equal(((await cross.json()) as JsonObject)['errcode'], 'M_UNRECOGNIZED');
    assert.equal(http.metricsPort, undefined);
  } finally {
    await http.close();
  }
});

test('the metrics listener serves Prometheus text with per-route counts, and /health', async () => {
  const http = await startHttp({
    config: testConfig({ metrics: { enabled: true, port: 0 } }),
    logger: silentLogger(),
    db: healthyDb,
    endpoints: { client: [defineEndpoint({ method: 'GET', path: '/_matrix/client/r/:id', auth: 'none', handler: () => ({}) })] },
  });
  try {
    assert.ok(http.metricsPort !== undefined && http.metricsPort > 0);
    for (const id of ['a', 'b', 'c']) await fetch(`http://127.0.0.1:${http.clientPort}/_matrix/client/r/${id}`);
    const res = await fetch(`http://127.0.0.1:${http.metricsPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /stoa_http_requests_total\{listener="client",method="GET",route="\/_matrix\/client\/r\/:id",status="200"\} 3/);
    // Process metrics are on when the metrics listener is.
    assert.match(text, /stoa_process_cpu_seconds_total/);
    const health = await fetch(`http://127.0.0.1:${http.metricsPort}/health`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`http://127.0.0.1:${http.metricsPort}/other`)).status, 404);
  } finally {
    await http.close();
  }
});

test('close() waits for an in-flight request, then resolves (SIGTERM drain)', async () => {
  const entered = deferred();
  const release = deferred();
  const http = await startHttp({
    config: testConfig(),
    logger: silentLogger(),
    db: healthyDb,
    endpoints: {
      client: [
        defineEndpoint({
          method: 'GET',
          path: '/slow',
          auth: 'none',
          handler: async () => {
            entered.resolve();
            await release.promise;
            return { done: true };
          },
        }),
      ],
    },
  });
  const base = `http://127.0.0.1:${http.clientPort}`;
  // An idle keep-alive connection must not hold close() open.
  assert.equal((await fetch(`${base}/health`)).status, 200);

  const slow = fetch(`${base}/slow`);
  await entered.promise;
  let closed = false;
  const closing = http.close().then(() => {
    closed = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(closed, false, 'close() must wait for the in-flight request');
  await assert.rejects(fetch(`${base}/health`), 'no new connections while draining');

  release.resolve();
  const res = await slow;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  assert.deepEqual(await res.json(), { done: true });
  await closing;
  assert.equal(closed, true);
});

test('close() cuts requests still running after the drain timeout', async () => {
  const entered = deferred();
  const never = new Promise<never>(() => undefined);
  const http = await startHttp({
    config: testConfig(),
    logger: silentLogger(),
    db: healthyDb,
    drainTimeoutMs: 100,
    endpoints: {
      client: [
        defineEndpoint({
          method: 'GET',
          path: '/stuck',
          auth: 'none',
          handler: async () => {
            entered.resolve();
            return never;
          },
        }),
      ],
    },
  });
  const stuck = fetch(`http://127.0.0.1:${http.clientPort}/stuck`);
  await entered.promise;
  const started = Date.now();
  await http.close();
  assert.ok(Date.now() - started < 5_000);
  await assert.rejects(stuck);
});

test('the federation listener speaks HTTPS when a certificate and key are configured', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stoa-tls-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  await writeFile(join(dir, 'cert.pem'), pems.cert);
  await writeFile(join(dir, 'key.pem'), pems.private);
  const http = await startHttp({
    config: testConfig({
      listeners: {
        client: { port: 0 },
        federation: { port: 0, tls_certificate_path: join(dir, 'cert.pem'), tls_private_key_path: join(dir, 'key.pem') },
      },
    }),
    logger: silentLogger(),
    db: healthyDb,
    endpoints: { federation: [defineEndpoint({ method: 'GET', path: '/tls', auth: 'none', handler: () => ({ tls: true }) })] },
  });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: http.federationPort, path: '/tls', ca: pems.cert, servername: 'localhost', checkServerIdentity: () => undefined },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(JSON.parse(body), { tls: true });
  } finally {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  }
});
