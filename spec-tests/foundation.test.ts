// Black-box tests of the foundation: real `stoa start` processes, driven over HTTP, every
// response checked against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import nacl from 'tweetnacl';
import { canonicalJson } from '../src/rooms/canonical-json.ts';
import { request } from './rig/http.ts';
import { startNodes, runStoaCommand, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';

describe('a node on PGlite', () => {
  let node: TestNode;
  before(async () => {
    [node] = (await startNodes(1)) as [TestNode];
  });
  after(async () => {
    if (node !== undefined) await stopNodes([node]);
  });

  test('client-server-api § GET /_matrix/client/versions matches the spec', async () => {
    const res = await request(`${node.clientUrl}/_matrix/client/versions`);
    assert.equal(res.status, 200, res.text);
    expectSpecResponse(res, 'getVersions');
    const { versions } = res.body as { versions: string[] };
    assert.ok(versions.some((v) => /^v1\.\d+$/.test(v)), `no v1.x version in ${JSON.stringify(versions)}`);
  });

  test('client-server-api § GET /.well-known/matrix/client names the public base URL', async () => {
    const res = await request(`${node.clientUrl}/.well-known/matrix/client`);
    assert.equal(res.status, 200, res.text);
    expectSpecResponse(res, 'getWellknown');
    const baseUrl = (res.body as { 'm.homeserver': { base_url: string } })['m.homeserver'].base_url;
    assert.equal(baseUrl.replace(/\/$/, ''), node.clientUrl);
  });

  test('server-server-api § GET /_matrix/federation/v1/version matches the spec', async () => {
    const res = await request(`${node.federationUrl}/_matrix/federation/v1/version`);
    assert.equal(res.status, 200, res.text);
    expectSpecResponse(res, 'getVersion');
    const server = (res.body as { server?: { name?: unknown } }).server;
    assert.equal(typeof server?.name, 'string');
  });

  test('server-server-api § GET /_matrix/key/v2/server: valid, self-signed, not expired', async () => {
    const res = await request(`${node.federationUrl}/_matrix/key/v2/server`);
    assert.equal(res.status, 200, res.text);
    expectSpecResponse(res, 'getServerKey');
    assertSignedServerKeys(res.body, node.serverName);
  });

  test('client-server-api § "Common error codes": an unknown endpoint is 404 M_UNRECOGNIZED', async () => {
    const client = await request(`${node.clientUrl}/_matrix/client/v3/no/such/endpoint`);
    expectMatrixError(client, 404, 'M_UNRECOGNIZED');
    const federation = await request(`${node.federationUrl}/_matrix/federation/v1/no/such/endpoint`);
    expectMatrixError(federation, 404, 'M_UNRECOGNIZED');
  });

  test('client-server-api § "Common error codes": a known endpoint with the wrong method is 405 M_UNRECOGNIZED', async () => {
    const res = await request(`${node.clientUrl}/_matrix/client/versions`, { method: 'POST', body: {} });
    expectMatrixError(res, 405, 'M_UNRECOGNIZED');
    const key = await request(`${node.federationUrl}/_matrix/key/v2/server`, { method: 'DELETE' });
    expectMatrixError(key, 405, 'M_UNRECOGNIZED');
  });

  test('GET /health answers 200 while the database answers', async () => {
    const res = await request(`${node.clientUrl}/health`);
    assert.equal(res.status, 200, res.text);
  });

  test('GET /metrics counts requests per endpoint', async () => {
    // Requests of our own, so the count cannot come from another test's.
    for (let i = 0; i < 3; i++) assert.equal((await request(`${node.clientUrl}/_matrix/client/versions`)).status, 200);
    const res = await request(`${node.metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const counters = res.text
      .split('\n')
      .filter((line) => /^\w+_requests_total\{/.test(line) && line.includes('/_matrix/client/versions') && line.includes('status="200"'));
    assert.ok(counters.length > 0, `no request counter for /_matrix/client/versions in:\n${res.text.slice(0, 3000)}`);
    const total = counters.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.ok(total >= 3, `counted ${total} requests to /versions, made at least 3`);
  });
});

describe('a node with TLS on the federation listener', () => {
  let node: TestNode | undefined;
  before(async () => {
    [node] = await startNodes(1, { tls: true });
  });
  after(async () => {
    if (node !== undefined) await stopNodes([node]);
  });

  test('server-server-api § "Retrieving server keys" over https, with a certificate for its IP', async () => {
    assert.ok(node !== undefined);
    assert.match(node.federationUrl, /^https:\/\//);
    const res = await request(`${node.federationUrl}/_matrix/key/v2/server`, { ca: node.caCertificate });
    assert.equal(res.status, 200, res.text);
    expectSpecResponse(res, 'getServerKey');
    assertSignedServerKeys(res.body, node.serverName);
    // Without trusting the test CA, the certificate must be refused.
    await assert.rejects(request(`${node.federationUrl}/_matrix/key/v2/server`));
  });

  test('SIGTERM stops the node with exit status 0 and the rig removes its folder', async () => {
    assert.ok(node !== undefined);
    const exit = await node.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, node.logs());
    assert.equal(existsSync(node.dataDir), false);
    node = undefined;
  });
});

describe('configuration errors', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stoa-bad-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a config with a wrongly typed key stops start with one line on stderr naming the key', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'server_name: example.org\nlisteners:\n  client:\n    port: "x"\n');
    const result = await runStoaCommand(['start', '--config', file]);
    assert.notEqual(result.code, 0, `exited 0; stdout: ${result.stdout}`);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    assert.equal(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`);
    assert.match(lines[0] ?? '', /listeners\.client\.port/);
    assert.doesNotMatch(result.stdout, /"msg":"listening"/);
  });

  test('a missing config file is one line too', async () => {
    const result = await runStoaCommand(['start', '--config', join(dir, 'missing.yaml')]);
    assert.notEqual(result.code, 0);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /missing\.yaml/);
  });
});

describe('a node on PostgreSQL', { skip: testPostgresUrl() === undefined ? 'STOA_TEST_POSTGRES_URL is not set' : false }, () => {
  let node: TestNode | undefined;
  before(async () => {
    [node] = await startNodes(1, { engine: 'postgres' });
  });
  after(async () => {
    if (node !== undefined) await stopNodes([node]);
  });

  test('starts, answers, and its throwaway database is dropped at stop', async () => {
    assert.ok(node !== undefined);
    const versions = await request(`${node.clientUrl}/_matrix/client/versions`);
    expectSpecResponse(versions, 'getVersions');
    assert.equal((await request(`${node.clientUrl}/health`)).status, 200);
    const keys = await request(`${node.federationUrl}/_matrix/key/v2/server`);
    assert.equal(keys.status, 200, keys.text);
    assertSignedServerKeys(keys.body, node.serverName);

    const database = node.config['database'] as { url: string };
    const name = new URL(database.url).pathname.slice(1);
    assert.equal(await databaseExists(name), true);
    assert.deepEqual(await node.stop(), { code: 0, signal: null }, node.logs());
    assert.equal(await databaseExists(name), false);
    node = undefined;
  });
});

/**
 * server-server-api § "Publishing Keys" and appendices § "Checking for a Signature": every
 * verify key signed the response (canonical JSON without `signatures` and `unsigned`),
 * checked with tweetnacl as an independent ed25519 implementation.
 */
function assertSignedServerKeys(body: unknown, serverName: string): void {
  const keys = body as {
    server_name: string;
    verify_keys: Record<string, { key: string }>;
    signatures: Record<string, Record<string, string>>;
    valid_until_ts: number;
    unsigned?: unknown;
  };
  assert.equal(keys.server_name, serverName);
  assert.ok(keys.valid_until_ts > Date.now(), `valid_until_ts ${keys.valid_until_ts} is in the past`);
  const keyIds = Object.keys(keys.verify_keys);
  assert.ok(keyIds.length > 0, 'no verify keys');
  const { signatures, unsigned: _unsigned, ...signed } = keys;
  const message = new TextEncoder().encode(canonicalJson(signed));
  for (const keyId of keyIds) {
    assert.match(keyId, /^ed25519:[a-zA-Z0-9_]+$/);
    const signature = signatures[serverName]?.[keyId];
    assert.ok(signature !== undefined, `no signature by ${keyId} from ${serverName}`);
    const publicKey = Buffer.from(keys.verify_keys[keyId]?.key ?? '', 'base64');
    assert.equal(publicKey.length, 32, `${keyId} is not a 32-byte ed25519 key`);
    assert.ok(nacl.sign.detached.verify(message, Buffer.from(signature, 'base64'), publicKey), `signature by ${keyId} does not verify`);
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    const result = await client.query('select 1 from pg_database where datname = $1', [name]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}
