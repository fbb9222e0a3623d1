// FederationClient end to end against local HTTPS servers with self-signed certificates:
// § "TLS" (verification on by default, `verify_tls: false`, `extra_ca_paths`, SNI),
// § "Request Authentication" (every request signed, checked by our own inbound verifier),
// the private-address guard, typed errors; and the key fetchers of § "Retrieving server keys".

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { Keyring, MemoryServerKeyCache } from '../../crypto/keyring.ts';
import type { ServerKeyCache } from '../../crypto/keyring.ts';
import type { ServerKeysRepository } from '../../storage/server-keys-repository.ts';
import { signedKeyDocument } from '../../crypto/server-key-testing.ts';
import { signJson } from '../../crypto/signed-json.ts';
import { generateSigningKey } from '../../crypto/signing-key.ts';
import { parseJsonStrict } from '../../rooms/canonical-json.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { authenticateXMatrix } from '../server/x-matrix-auth.ts';
import type { Dns } from '../../net/dns.ts';
import { FederationConnectionError, FederationResponseError, RemoteMatrixError } from './errors.ts';
import { FederationClient } from './federation-client.ts';
import { NotaryKeyFetcher, notaryFetchersFromConfig, OriginKeyFetcher } from './key-fetchers.ts';
import { ServerDiscovery } from './server-discovery.ts';
import { loadFederationTls, type FederationTlsOptions } from './transport.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly servername: string | false | null | undefined;
}

type Handler = (seen: Seen, res: ServerResponse) => void;

interface TestServer {
  readonly port: number;
  readonly requests: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function startServer(cert: { cert: string; private: string }, handler: Handler): Promise<TestServer> {
  const requests: Seen[] = [];
  const state: { handler: Handler } = { handler };
  const server: Server = createServer({ cert: cert.cert, key: cert.private }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        servername: (req.socket as TLSSocket).servername,
      };
      requests.push(seen);
      state.handler(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    get handler() {
      return state.handler;
    },
    set handler(next: Handler) {
      state.handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// fed.test resolves to loopback; everything else is unknown.
const dns: Dns = {
  resolveSrv: async () => [],
  lookup: async (hostname) => (hostname === 'fed.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
};
const noWellKnown = { fetch: async () => ({ kind: 'failure', reason: 'not in tests' }) as const };

const ourKey = generateSigningKey('client1');

// Compile-time: the storage repository is a keyring cache as it stands (main.ts passes it in).
export const repositoryIsAKeyCache = (repository: ServerKeysRepository): ServerKeyCache => repository;

function makeClient(tls: FederationTlsOptions, allowPrivateAddresses = true, extra: { maxResponseBytes?: number } = {}): FederationClient {
  return new FederationClient({
    serverName: 'origin.test',
    signingKey: ourKey,
    resolver: new ServerDiscovery({ dns, wellKnown: noWellKnown }),
    dns,
    tls,
    allowPrivateAddresses,
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    ...extra,
  });
}

describe('FederationClient over HTTPS', () => {
  let dir: string;
  let caPath: string;
  let server: TestServer;
  const clients: FederationClient[] = [];
  const client = (...args: Parameters<typeof makeClient>): FederationClient => {
    const made = makeClient(...args);
    clients.push(made);
    return made;
  };

  before(async () => {
    const cert = await generate([{ name: 'commonName', value: 'fed.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'fed.test' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'stoa-fed-client-'));
    caPath = join(dir, 'ca.pem');
    await writeFile(caPath, cert.cert);
    server = await startServer(cert, (_seen, res) => json(res, 200, { ok: true }));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('verify_tls: false reaches a self-signed server; the request is X-Matrix signed for the destination', async () => {
    const destination = `127.0.0.1:${server.port}`;
    server.handler = (_seen, res) => json(res, 200, { hello: 'world' });
    const answer = await client({ verify: false, extraCa: [] }).get(destination, '/_matrix/federation/v1/version', { a: 'b c', n: 1 });
    assert.deepEqual(answer, { hello: 'world' });
    const seen = server.requests.at(-1);
    assert.ok(seen);
    assert.equal(seen.url, '/_matrix/federation/v1/version?a=b+c&n=1');
    assert.equal(seen.headers.host, destination);
    assert.equal(seen.servername, false, 'no SNI for an IP address');
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [], localKeys: { serverName: 'origin.test', keys: [{ keyId: ourKey.keyId, publicKey: ourKey.publicKey }] } });
    const authorization = [seen.headers.authorization ?? ''];
    const origin = await authenticateXMatrix({ method: seen.method, uri: seen.url, authorization, content: undefined, rawBody: undefined }, { serverName: destination, keyring });
    assert.equal(origin, 'origin.test');
    await assert.rejects(
      authenticateXMatrix({ method: seen.method, uri: seen.url, authorization, content: undefined, rawBody: undefined }, { serverName: 'someone.else', keyring }),
      { status: 401, errcode: 'M_UNAUTHORIZED' },
    );
  });

  test('PUT bodies are sent as JSON and covered by the signature', async () => {
    const destination = `127.0.0.1:${server.port}`;
    server.handler = (_seen, res) => json(res, 200, {});
    await client({ verify: false, extraCa: [] }).put(destination, '/_matrix/federation/v1/send/t1', { pdus: [], edus: [] });
    const seen = server.requests.at(-1);
    assert.ok(seen);
    assert.equal(seen.headers['content-type'], 'application/json');
    const content = parseJsonStrict(seen.body);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [], localKeys: { serverName: 'origin.test', keys: [{ keyId: ourKey.keyId, publicKey: ourKey.publicKey }] } });
    const request = { method: 'PUT', uri: seen.url, authorization: [seen.headers.authorization ?? ''], rawBody: seen.body };
    assert.equal(await authenticateXMatrix({ ...request, content }, { serverName: destination, keyring }), 'origin.test');
    await assert.rejects(authenticateXMatrix({ ...request, content: { pdus: [] } }, { serverName: destination, keyring }), { status: 401 });
  });

  test('certificate verification is on by default: a self-signed server is a tls failure', async () => {
    await assert.rejects(
      client({ verify: true, extraCa: [] }).get(`127.0.0.1:${server.port}`, '/_matrix/federation/v1/version'),
      (error: unknown) => error instanceof FederationConnectionError && error.failure === 'tls',
    );
  });

  test('extra_ca_paths makes the certificate trusted, by IP and by hostname (SNI sent)', async () => {
    const tls = await loadFederationTls({ verify_tls: true, extra_ca_paths: [caPath] });
    const c = client(tls);
    server.handler = (_seen, res) => json(res, 200, { ok: true });
    assert.deepEqual(await c.get(`127.0.0.1:${server.port}`, '/_matrix/federation/v1/version'), { ok: true });
    server.handler = (_seen, res) => json(res, 200, { named: true });
    assert.deepEqual(await c.get(`fed.test:${server.port}`, '/_matrix/federation/v1/version'), { named: true });
    const seen = server.requests.at(-1);
    assert.equal(seen?.servername, 'fed.test');
    assert.equal(seen?.headers.host, `fed.test:${server.port}`);
  });

  test('private and loopback destinations are refused unless allow_private_addresses', async () => {
    const c = client({ verify: false, extraCa: [] }, false);
    const before = server.requests.length;
    for (const destination of [`127.0.0.1:${server.port}`, `fed.test:${server.port}`]) {
      await assert.rejects(
        c.get(destination, '/_matrix/federation/v1/version'),
        (error: unknown) => error instanceof FederationConnectionError && error.failure === 'forbidden-address',
        destination,
      );
    }
    assert.equal(server.requests.length, before, 'no request reached the server');
  });

  test('errors are typed: Matrix errors, unknown hosts, non-JSON and oversized responses', async () => {
    const c = client({ verify: false, extraCa: [] }, true, { maxResponseBytes: 1024 });
    const destination = `127.0.0.1:${server.port}`;
    server.handler = (_seen, res) => json(res, 403, { errcode: 'M_FORBIDDEN', error: 'go away' });
    await assert.rejects(c.get(destination, '/_matrix/x'), (error: unknown) => error instanceof RemoteMatrixError && error.status === 403 && error.errcode === 'M_FORBIDDEN');
    server.handler = (_seen, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>');
    };
    await assert.rejects(c.get(destination, '/_matrix/x'), (error: unknown) => error instanceof FederationResponseError && error.problem === 'not-json');
    server.handler = (_seen, res) => json(res, 200, [1, 2]);
    await assert.rejects(c.get(destination, '/_matrix/x'), (error: unknown) => error instanceof FederationResponseError && error.problem === 'not-an-object');
    server.handler = (_seen, res) => json(res, 200, { big: 'x'.repeat(5000) });
    await assert.rejects(c.get(destination, '/_matrix/x'), (error: unknown) => error instanceof FederationResponseError && error.problem === 'too-large');
    await assert.rejects(c.get('nowhere.test:8448', '/_matrix/x'), (error: unknown) => error instanceof FederationConnectionError && error.failure === 'dns');
    await assert.rejects(c.get('not a name', '/_matrix/x'), (error: unknown) => error instanceof FederationConnectionError && error.failure === 'dns');
  });
});

describe('key fetchers over HTTPS (server-server § "Retrieving server keys")', () => {
  const remoteKey = generateSigningKey('r1');
  const notaryKey = generateSigningKey('n1');
  let origin: TestServer;
  let notary: TestServer;
  let client: FederationClient;
  let originName: string;
  let notaryName: string;
  const now = Date.now();

  before(async () => {
    const cert = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
    origin = await startServer(cert, (_seen, res) => json(res, 200, signedKeyDocument({ serverName: originName, key: remoteKey, validUntilTs: now + 3_600_000 })));
    originName = `127.0.0.1:${origin.port}`;
    notary = await startServer(cert, (seen, res) => {
      const asked = Object.keys((JSON.parse(seen.body) as { server_keys: Record<string, unknown> }).server_keys);
      const documents: JsonObject[] = asked
        .filter((name) => name === originName)
        .map((name) => signJson(signedKeyDocument({ serverName: name, key: remoteKey, validUntilTs: now + 3_600_000 }), notaryName, notaryKey));
      json(res, 200, { server_keys: documents });
    });
    notaryName = `127.0.0.1:${notary.port}`;
    client = makeClient({ verify: false, extraCa: [] });
  });
  after(async () => {
    await client.close();
    await origin.close();
    await notary.close();
  });

  test('the origin fetcher feeds the keyring, which then answers from its cache', async () => {
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [new OriginKeyFetcher(client)] });
    const before = origin.requests.length;
    const key = await keyring.getVerifyKey(originName, 'ed25519:r1');
    assert.deepEqual(key?.publicKey, remoteKey.publicKey);
    await keyring.getVerifyKey(originName, 'ed25519:r1');
    assert.equal(origin.requests.length - before, 1);
    assert.equal(origin.requests.at(-1)?.url, '/_matrix/key/v2/server');
  });

  test('a bad self-signature from the origin falls through to a configured notary', async () => {
    origin.handler = (_seen, res) =>
      json(res, 200, signedKeyDocument({ serverName: originName, key: remoteKey, validUntilTs: now + 3_600_000, signWith: generateSigningKey('r1') }));
    const { fetchers, problems } = notaryFetchersFromConfig(client, [
      { server_name: notaryName, verify_keys: { [notaryKey.keyId]: notaryKey.publicKeyBase64 } },
      { server_name: 'unkeyed.example' },
    ]);
    assert.equal(fetchers.length, 1);
    assert.deepEqual(problems.map((p) => p.notary), ['unkeyed.example']);
    const errors: string[] = [];
    const keyring = new Keyring({
      cache: new MemoryServerKeyCache(),
      fetchers: [new OriginKeyFetcher(client), ...fetchers],
      onFetchError: (name, _server, error) => errors.push(`${name}: ${(error as Error).name}`),
    });
    const key = await keyring.getVerifyKey(originName, 'ed25519:r1', { minimumValidUntilTs: now + 60_000 });
    assert.deepEqual(key?.publicKey, remoteKey.publicKey);
    assert.deepEqual(errors, ['origin: KeyResponseError']);
    const query = JSON.parse(notary.requests.at(-1)?.body ?? '{}') as unknown;
    assert.deepEqual(query, { server_keys: { [originName]: { 'ed25519:r1': { minimum_valid_until_ts: now + 60_000 } } } });
  });

  test('notary answers not signed by the configured notary key are refused', async () => {
    const fetcher = new NotaryKeyFetcher(client, notaryName, new Map([['ed25519:n1', generateSigningKey('n1').publicKey]]));
    await assert.rejects(fetcher.fetch({ serverName: originName, keyIds: [], minimumValidUntilTs: now }), { name: 'KeyResponseError' });
  });
});
