import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JsonObject } from '../rooms/json.ts';
import { buildApp, CORS_HEADERS } from './app.ts';
import { defineEndpoint, HttpResponse, jsonBody, type FederationRequest, type Requester } from './define-endpoint.ts';
import { forbidden, limitExceeded } from './matrix-error.ts';
import { createHttpMetrics } from './metrics.ts';
import { capturingLogger, rawRequest, silentLogger, startApp, type RunningApp } from './testing.ts';

interface EchoBody extends JsonObject {
  name: string;
  count: number;
}

const echoSchema = {
  type: 'object',
  required: ['name', 'count'],
  properties: { name: { type: 'string' }, count: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
};

const endpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/echo/:thing',
    auth: 'none',
    body: jsonBody<EchoBody>(echoSchema),
    handler: ({ body, params, rawBody }) => ({ thing: params['thing'] ?? '', name: body.name, count: body.count, raw: rawBody ?? '' }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/echo/:thing',
    auth: 'none',
    handler: ({ params, query }) => ({ thing: params['thing'] ?? '', q: query.get('q') ?? '' }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/boom',
    auth: 'none',
    handler: () => {
      throw new Error('secret internal detail');
    },
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/koa-throw',
    auth: 'none',
    handler: ({ ctx }) => ctx.throw(422, 'unprocessable thing'),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/forbidden',
    auth: 'none',
    handler: () => {
      throw forbidden('You shall not pass');
    },
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/whoami-test',
    auth: 'required',
    handler: ({ auth }) => ({ user_id: auth.userId }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/maybe',
    auth: 'optional',
    handler: ({ auth }) => ({ user_id: auth?.userId ?? null }),
  }),
  defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/created',
    auth: 'none',
    handler: () => HttpResponse.json({ created: true }, 201, { 'X-Test': 'yes' }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/limited',
    auth: 'none',
    rateLimit: 'test',
    handler: () => ({}),
  }),
];

const alice: Requester = { userId: '@alice:stoa.test', deviceId: 'DEV', isGuest: false };

describe('HTTP app (client-server § "API Standards")', () => {
  let app: RunningApp;
  let rateLimitCalls = 0;
  before(async () => {
    app = await startApp({
      endpoints,
      accessTokens: { verify: (token) => Promise.resolve(token === 'good' ? alice : undefined) },
      rateLimiter: {
        consume: (bucket, key) => {
          assert.equal(bucket, 'test');
          assert.match(key, /^ip:/);
          rateLimitCalls++;
          return rateLimitCalls > 1 ? 1500 : 0;
        },
      },
    });
  });
  after(() => app.close());

  test('a valid JSON body reaches the handler with path params and the raw text', async () => {
    const raw = '{"name":"x","count":3}';
    const res = await fetch(`${app.url}/_matrix/client/v3/echo/th%20ing`, { method: 'POST', body: raw });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { thing: 'th ing', name: 'x', count: 3, raw });
  });

  test('query parameters reach GET handlers', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/echo/a?q=hello`);
    assert.deepEqual(await res.json(), { thing: 'a', q: 'hello' });
  });

  test('unknown path: 404 M_UNRECOGNIZED (§ "Common error codes")', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/nope`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as JsonObject;
    assert.equal(body['errcode'], 'M_UNRECOGNIZED');
    assert.equal(typeof body['error'], 'string');
  });

  test('known path, wrong method: 405 M_UNRECOGNIZED with Allow', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(((await res.json()) as JsonObject)['errcode'], 'M_UNRECOGNIZED');
    const allow = (res.headers.get('allow') ?? '').split(/,\s*/).sort();
    assert.deepEqual(allow, ['GET', 'HEAD', 'OPTIONS', 'POST']);
  });

  test('invalid JSON: 400 M_NOT_JSON', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'POST', body: '{' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as JsonObject)['errcode'], 'M_NOT_JSON');
  });

  test('a JSON array where an object is required: 400 M_NOT_JSON', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'POST', body: '[1,2]' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as JsonObject)['errcode'], 'M_NOT_JSON');
  });

  test('duplicate keys and invalid UTF-8 are not JSON', async () => {
    for (const body of ['{"name":"a","name":"b","count":1}', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])]) {
      const res = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'POST', body });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as JsonObject)['errcode'], 'M_NOT_JSON');
    }
  });

  test('schema failure: 400 M_BAD_JSON naming the field', async () => {
    const missing = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'POST', body: '{"name":"x"}' });
    assert.equal(missing.status, 400);
    const missingBody = (await missing.json()) as JsonObject;
    assert.equal(missingBody['errcode'], 'M_BAD_JSON');
    assert.match(String(missingBody['error']), /count/);

    const wrongType = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'POST', body: '{"name":"x","count":1,"tags":[1]}' });
    const wrongBody = (await wrongType.json()) as JsonObject;
    assert.equal(wrongBody['errcode'], 'M_BAD_JSON');
    assert.match(String(wrongBody['error']), /tags\[0\]/);
  });

  test('an empty body counts as {} and is then validated', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/echo/a`, { method: 'POST' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as JsonObject)['errcode'], 'M_BAD_JSON');
  });

  test('a body over the limit without Content-Length: 413 M_TOO_LARGE while streaming', { timeout: 10_000 }, async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    // 80 KiB against a 64 KiB limit, and the body never ends: the answer must come from the
    // byte count while streaming, not from reading to the end.
    const chunks = [new TextEncoder().encode('{"name":"'), ...Array.from({ length: 5 }, () => chunk)];
    const res = await rawRequest(app.port, {
      method: 'POST',
      path: '/_matrix/client/v3/echo/a',
      headers: { 'Transfer-Encoding': 'chunked' },
      chunks,
      holdOpen: true,
    });
    assert.equal(res.status, 413);
    assert.equal(res.json()['errcode'], 'M_TOO_LARGE');
    assert.equal(res.headers['connection'], 'close');
  });

  test('a declared Content-Length over the limit: 413 before reading', async () => {
    const res = await rawRequest(app.port, {
      method: 'POST',
      path: '/_matrix/client/v3/echo/a',
      headers: { 'Content-Length': String(10 * 1024 * 1024) },
      chunks: [new TextEncoder().encode('{')],
    });
    assert.equal(res.status, 413);
    assert.equal(res.json()['errcode'], 'M_TOO_LARGE');
  });

  test('CORS headers on normal and error responses (§ "Web Browser Clients")', async () => {
    for (const path of ['/_matrix/client/v3/echo/a', '/_matrix/client/v3/nope', '/_matrix/client/v3/forbidden']) {
      const res = await fetch(`${app.url}${path}`);
      for (const [name, value] of Object.entries(CORS_HEADERS)) assert.equal(res.headers.get(name), value, `${name} on ${path}`);
    }
  });

  test('OPTIONS preflight is answered for any path without running the endpoint', async () => {
    for (const path of ['/_matrix/client/v3/boom', '/_matrix/client/v3/whoami-test', '/anything/at/all']) {
      const res = await fetch(`${app.url}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' },
      });
      assert.equal(res.status, 204, path);
      for (const [name, value] of Object.entries(CORS_HEADERS)) assert.equal(res.headers.get(name), value);
    }
  });

  test('a throwing handler: 500 M_UNKNOWN, no stack or message leaked', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/boom`);
    assert.equal(res.status, 500);
    const text = await res.text();
    const body = JSON.parse(text) as JsonObject;
    assert.equal(body['errcode'], 'M_UNKNOWN');
    assert.doesNotMatch(text, /secret internal detail|at .*\.ts|stack/);
  });

  test("koa's own client errors keep their status as M_UNKNOWN", async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/koa-throw`);
    assert.equal(res.status, 422);
    assert.deepEqual(await res.json(), { errcode: 'M_UNKNOWN', error: 'unprocessable thing' });
  });

  test('a thrown MatrixError keeps its status and errcode', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/forbidden`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { errcode: 'M_FORBIDDEN', error: 'You shall not pass' });
  });

  test('auth required: no token → 401 M_MISSING_TOKEN; unknown → 401 M_UNKNOWN_TOKEN (§ "Using access tokens")', async () => {
    const none = await fetch(`${app.url}/_matrix/client/v3/whoami-test`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as JsonObject)['errcode'], 'M_MISSING_TOKEN');
    const bad = await fetch(`${app.url}/_matrix/client/v3/whoami-test`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as JsonObject)['errcode'], 'M_UNKNOWN_TOKEN');
    const good = await fetch(`${app.url}/_matrix/client/v3/whoami-test`, { headers: { Authorization: 'Bearer good' } });
    assert.deepEqual(await good.json(), { user_id: alice.userId });
    const query = await fetch(`${app.url}/_matrix/client/v3/whoami-test?access_token=good`);
    assert.deepEqual(await query.json(), { user_id: alice.userId });
  });

  test('auth optional: absent is fine, a bad token is still M_UNKNOWN_TOKEN', async () => {
    assert.deepEqual(await (await fetch(`${app.url}/_matrix/client/v3/maybe`)).json(), { user_id: null });
    const bad = await fetch(`${app.url}/_matrix/client/v3/maybe`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as JsonObject)['errcode'], 'M_UNKNOWN_TOKEN');
  });

  test('HttpResponse sets status and headers', async () => {
    const res = await fetch(`${app.url}/_matrix/client/v3/created`, { method: 'PUT', body: '{}' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-test'), 'yes');
    assert.deepEqual(await res.json(), { created: true });
  });

  test('a rate-limited request: 429 M_LIMIT_EXCEEDED with Retry-After (§ "Rate limiting")', async () => {
    assert.equal((await fetch(`${app.url}/_matrix/client/v3/limited`)).status, 200);
    const res = await fetch(`${app.url}/_matrix/client/v3/limited`);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.deepEqual(await res.json(), { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 1500 });
  });
});

describe('HTTP app: metrics and logs', () => {
  test('requests are counted by route template, not raw path', async () => {
    const metrics = createHttpMetrics();
    const app = await startApp({ endpoints, metrics });
    try {
      await fetch(`${app.url}/_matrix/client/v3/echo/one`);
      await fetch(`${app.url}/_matrix/client/v3/echo/two`);
      await fetch(`${app.url}/_matrix/client/v3/nope/${Math.random()}`);
      await fetch(`${app.url}/_matrix/client/v3/echo/three`, { method: 'DELETE' });
      const text = await metrics.registry.metrics();
      assert.match(
        text,
        /stoa_http_requests_total\{listener="client",method="GET",route="\/_matrix\/client\/v3\/echo\/:thing",status="200"\} 2/,
      );
      assert.match(text, /stoa_http_requests_total\{listener="client",method="GET",route="unmatched",status="404"\} 1/);
      assert.match(text, /stoa_http_requests_total\{[^}]*method="DELETE",route="\/_matrix\/client\/v3\/echo\/:thing",status="405"\} 1/);
      assert.doesNotMatch(text, /echo\/one|echo\/two/);
      assert.match(text, /stoa_http_request_duration_seconds_count\{[^}]*route="\/_matrix\/client\/v3\/echo\/:thing",status="200"\} 2/);
    } finally {
      await app.close();
    }
  });

  test('an unhandled error is logged with its stack; the access log has no query string', async () => {
    const { logger, lines } = capturingLogger();
    const app = await startApp({ endpoints, logger });
    try {
      await fetch(`${app.url}/_matrix/client/v3/boom?access_token=sekrit`);
      const failure = lines.find((line) => line['msg'] === 'unhandled error');
      assert.ok(failure, 'error line logged');
      assert.match(JSON.stringify(failure['err']), /secret internal detail/);
      const access = lines.find((line) => line['msg'] === 'request');
      assert.ok(access);
      assert.equal(access['status'], 500);
      assert.equal(access['route'], '/_matrix/client/v3/boom');
      assert.ok(!lines.some((line) => JSON.stringify(line).includes('sekrit')), 'token never logged');
    } finally {
      await app.close();
    }
  });
});

describe('HTTP app: federation auth extension point', () => {
  const federationEndpoints = [
    defineEndpoint({
      method: 'PUT',
      path: '/_matrix/federation/v1/send/:txnId',
      auth: 'federation',
      body: jsonBody<JsonObject>({ type: 'object', required: ['pdus'] }),
      handler: ({ auth, rawBody }) => ({ origin: auth.serverName, raw: rawBody ?? '' }),
    }),
  ];

  test('without an authenticator, federation endpoints answer 401 M_UNAUTHORIZED', async () => {
    const app = await startApp({ endpoints: federationEndpoints, listener: 'federation' });
    try {
      const res = await fetch(`${app.url}/_matrix/federation/v1/send/1`, { method: 'PUT', body: '{"pdus":[]}' });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as JsonObject)['errcode'], 'M_UNAUTHORIZED');
    } finally {
      await app.close();
    }
  });

  test('the authenticator sees method, URI, headers and the parsed body before validation', async () => {
    const seen: FederationRequest[] = [];
    const app = await startApp({
      endpoints: federationEndpoints,
      listener: 'federation',
      federationAuth: {
        authenticate: (request) => {
          seen.push(request);
          return Promise.resolve({ serverName: 'remote.test' });
        },
      },
    });
    try {
      const raw = '{"pdus":[],"origin":"remote.test"}';
      const res = await fetch(`${app.url}/_matrix/federation/v1/send/abc?x=1`, {
        method: 'PUT',
        body: raw,
        headers: { Authorization: 'X-Matrix origin="remote.test",key="ed25519:a",sig="s"' },
      });
      assert.deepEqual(await res.json(), { origin: 'remote.test', raw });
      const request = seen[0];
      assert.ok(request);
      assert.equal(request.method, 'PUT');
      assert.equal(request.uri, '/_matrix/federation/v1/send/abc?x=1');
      assert.deepEqual(request.authorization, ['X-Matrix origin="remote.test",key="ed25519:a",sig="s"']);
      assert.deepEqual(request.content, { pdus: [], origin: 'remote.test' });
    } finally {
      await app.close();
    }
  });
});

test('two endpoints with the same method and path are refused when the app is built', () => {
  const twice = defineEndpoint({ method: 'GET', path: '/x', auth: 'none', handler: () => ({}) });
  assert.throws(
    () => buildApp({ listener: 'client', endpoints: [twice, twice], logger: silentLogger(), metrics: createHttpMetrics(), maxBodyBytes: 1024 }),
    /two endpoints for GET \/x/,
  );
});

test('limitExceeded rounds Retry-After up to whole seconds', () => {
  const error = limitExceeded(1);
  assert.equal(error.headers['Retry-After'], '1');
  assert.deepEqual(error.toJson(), { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 1 });
});
