// Abuse controls (issue 11 item 5): per-user rate limits on joins and media uploads and a
// per-origin limit on federation requests (client-server API § "Rate limiting",
// 429 M_LIMIT_EXCEEDED with retry_after_ms); a nesting limit on request bodies; header
// timeouts so a slow client cannot hold a connection (slowloris); push gateways on private
// addresses refused (push gateway API § POST /_matrix/push/v1/notify); and no password,
// access token or refresh token in the server's log.

import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { generateSigningKey } from '../src/crypto/signing-key.ts';
import { signRequest } from '../src/crypto/x-matrix.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { startKeyServer, type RunningKeyServer } from './rig/key-server.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;
const GENEROUS = { per_second: 100, burst: 1000 };
const JOIN_BURST = 3;
const UPLOAD_BURST = 2;
const FEDERATION_BURST = 5;
/** Refills so slowly that no token comes back during the test. */
const SLOW = 0.0001;

let node: TestNode;
let alice: RegisteredUser;
let bob: RegisteredUser;
let carol: RegisteredUser;

async function call(user: RegisteredUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, { method, headers: authHeaders(user), ...(body === undefined ? {} : { body }) });
}

function expectLimited(res: HttpResponse): void {
  expectMatrixError(res, 429, 'M_LIMIT_EXCEEDED');
  const retryAfterMs = (res.body as { retry_after_ms?: unknown }).retry_after_ms;
  assert.ok(typeof retryAfterMs === 'number' && retryAfterMs > 0, `retry_after_ms: ${String(retryAfterMs)}`);
  assert.ok(res.headers.get('retry-after') !== null, 'no Retry-After header');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  [node] = (await startNodes(1, {
    tls: true,
    configOverrides: {
      rate_limits: {
        enabled: true,
        login: GENEROUS,
        failed_login: GENEROUS,
        registration: GENEROUS,
        message: GENEROUS,
        default: GENEROUS,
        join: { per_second: SLOW, burst: JOIN_BURST },
        media_upload: { per_second: SLOW, burst: UPLOAD_BURST },
        federation: { per_second: SLOW, burst: FEDERATION_BURST },
      },
      // The rig allows loopback gateways; this node must refuse them.
      push: { allow_private_addresses: false },
      // Everything the server logs at any level is checked for secrets.
      log_level: 'debug',
    },
  })) as [TestNode];
  [alice, bob, carol] = await Promise.all([registerUser(node, 'alice'), registerUser(node, 'bob'), registerUser(node, 'carol')]);
});

after(() => stopNodes(node === undefined ? [] : [node]));

describe('client-server-api § Rate limiting', () => {
  test('POST /join/{roomIdOrAlias}: joins are limited per user (429 M_LIMIT_EXCEEDED with retry_after_ms); another user is unaffected', async () => {
    const rooms: string[] = [];
    for (let i = 0; i <= JOIN_BURST; i++) {
      const created = await call(alice, 'POST', '/createRoom', { preset: 'public_chat' });
      expectSpecResponse(created, 'createRoom');
      rooms.push((created.body as { room_id: string }).room_id);
    }
    for (const room of rooms.slice(0, JOIN_BURST)) expectSpecResponse(await call(bob, 'POST', `/join/${enc(room)}`, {}), 'joinRoomById');
    const limited = await call(bob, 'POST', `/join/${enc(rooms[JOIN_BURST]!)}`, {});
    expectLimited(limited);
    // The same limit guards the other join endpoint.
    expectLimited(await call(bob, 'POST', `/rooms/${enc(rooms[JOIN_BURST]!)}/join`, {}));
    expectSpecResponse(await call(carol, 'POST', `/join/${enc(rooms[JOIN_BURST]!)}`, {}), 'joinRoomById');
  });

  test('POST /_matrix/media/v3/upload: uploads are limited per user', async () => {
    const upload = (user: RegisteredUser): Promise<HttpResponse> =>
      request(`${node.clientUrl}/_matrix/media/v3/upload?filename=a.txt`, {
        method: 'POST',
        headers: { ...authHeaders(user), 'content-type': 'text/plain' },
        body: new TextEncoder().encode('hello'),
      });
    for (let i = 0; i < UPLOAD_BURST; i++) expectSpecResponse(await upload(bob), 'uploadContent');
    expectLimited(await upload(bob));
    expectSpecResponse(await upload(carol), 'uploadContent');
  });

  test('server-server-api § Request Authentication: federation requests are limited per origin server; another origin is unaffected', async () => {
    const peers: Array<{ keyServer: RunningKeyServer; key: ReturnType<typeof generateSigningKey> }> = [];
    try {
      for (const id of ['p1', 'p2']) {
        const key = generateSigningKey(id);
        peers.push({ keyServer: await startKeyServer(key), key });
      }
      const query = (peer: (typeof peers)[number]): Promise<HttpResponse> => {
        const uri = `/_matrix/federation/v1/query/profile?user_id=${enc(alice.userId)}`;
        const authorization = signRequest({ method: 'GET', uri, origin: peer.keyServer.serverName, destination: node.serverName, content: undefined }, peer.key);
        return request(`${node.federationUrl}${uri}`, { headers: { authorization }, ca: node.caCertificate });
      };
      const [first, second] = peers as [(typeof peers)[number], (typeof peers)[number]];
      for (let i = 0; i < FEDERATION_BURST; i++) expectSpecResponse(await query(first), 'queryProfile');
      expectLimited(await query(first));
      expectSpecResponse(await query(second), 'queryProfile');
    } finally {
      await Promise.all(peers.map((peer) => peer.keyServer.close()));
    }
  });
});

describe('client-server-api § API Standards: request bodies', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = { leaf: true };
    for (let i = 1; i < levels; i++) value = { n: value };
    return value;
  };

  test('a body nested 64 levels deep is accepted; 65 levels is 400 M_BAD_JSON', async () => {
    const path = `/user/${enc(alice.userId)}/account_data/org.example.deep`;
    expectSpecResponse(await call(alice, 'PUT', path, nested(64)), 'setAccountData');
    const tooDeep = await call(alice, 'PUT', path, nested(65));
    expectMatrixError(tooDeep, 400, 'M_BAD_JSON');
    // Far deeper (a parser's recursion is the target): the same answer, and the node is fine.
    expectMatrixError(await call(alice, 'PUT', path, '['.repeat(100_000) + ']'.repeat(100_000)), 400, 'M_BAD_JSON');
    expectSpecResponse(await call(alice, 'GET', path), 'getAccountData');
  });
});

/** Sends request headers one byte a second; resolves with what the server answered and when it hung up. */
function slowloris(socket: Socket): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const head = 'GET /_matrix/client/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const give = (at: number): void => {
      timer = setTimeout(() => {
        if (socket.destroyed) return;
        socket.write('X');
        // Never ends the header block within the test; the server must give up first.
        if (Date.now() - startedAt < 120_000) give(at + 1);
        else reject(new Error('the server held a slowloris connection for 120 s'));
      }, 1_000);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ answer, closedAfterMs: Date.now() - startedAt });
    });
    socket.write(`${head}X-Slow: `, () => give(0));
  });
}

describe('slow clients', () => {
  test('a client sending its headers byte by byte is cut off (408) on both listeners', async () => {
    const client = new URL(node.clientUrl);
    const federation = new URL(node.federationUrl);
    const [plain, tls] = await Promise.all([
      slowloris(connectTcp({ host: client.hostname, port: Number(client.port) })),
      slowloris(connectTls({ host: federation.hostname, port: Number(federation.port), ca: node.caCertificate })),
    ]);
    console.log(`slowloris cut off after ${plain.closedAfterMs} ms (client) and ${tls.closedAfterMs} ms (federation)`);
    for (const result of [plain, tls]) {
      assert.match(result.answer, /^HTTP\/1\.1 408 /, `answer: ${JSON.stringify(result.answer.slice(0, 80))}`);
      assert.ok(result.closedAfterMs < 60_000, `held for ${result.closedAfterMs} ms`);
    }
    // The node still serves everyone else.
    expectSpecResponse(await request(`${node.clientUrl}/_matrix/client/versions`), 'getVersions');
  });
});

describe('push gateway API § POST /_matrix/push/v1/notify: private addresses', () => {
  let gateway: Server;
  let hits = 0;
  before(async () => {
    gateway = createHttpServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"rejected":[]}');
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => gateway.close(() => resolve())));

  test('a pusher on a loopback address (IP literal or a name resolving to one) is never contacted', async () => {
    const port = (gateway.address() as AddressInfo).port;
    for (const [pushkey, host] of [['literal', '127.0.0.1'], ['named', 'localhost']] as const) {
      const set = await call(carol, 'POST', '/pushers/set', {
        kind: 'http',
        app_id: 'org.example.abuse',
        pushkey,
        app_display_name: 'abuse test',
        device_display_name: 'test',
        lang: 'en',
        data: { url: `http://${host}:${port}/_matrix/push/v1/notify` },
      });
      expectSpecResponse(set, 'postPusher');
    }
    const created = await call(bob, 'POST', '/createRoom', { invite: [carol.userId] });
    const room = (created.body as { room_id: string }).room_id;
    expectSpecResponse(await call(carol, 'POST', `/rooms/${enc(room)}/join`, {}), 'joinRoom');
    expectSpecResponse(
      await call(bob, 'PUT', `/rooms/${enc(room)}/send/m.room.message/push1`, { msgtype: 'm.text', body: 'carol!', 'm.mentions': { user_ids: [carol.userId] } }),
      'sendMessage',
    );
    const deadline = Date.now() + 30_000;
    const refusals = (): number => node.logs().split('\n').filter((line) => line.includes('push gateway address is not allowed')).length;
    while (refusals() < 2 && Date.now() < deadline) await sleep(200);
    assert.equal(refusals(), 2, 'the worker did not refuse both gateways');
    assert.equal(hits, 0, 'a gateway on a private address was contacted');
  });
});

describe('secrets in logs', () => {
  test('no password, access token or refresh token appears in the log after register, login, refresh, send and keys upload', async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
    const v3 = (path: string): string => `${node.clientUrl}/_matrix/client/v3${path}`;
    const first = await request(v3('/register'), { method: 'POST', body: { username: 'dave', password } });
    assert.equal(first.status, 401);
    const session = (first.body as { session: string }).session;
    const registered = await request(v3('/register'), {
      method: 'POST',
      body: { username: 'dave', password, refresh_token: true, auth: { type: 'm.login.dummy', session } },
    });
    expectSpecResponse(registered, 'register');
    const reg = registered.body as { access_token: string; refresh_token?: string };
    const login = await request(v3('/login'), {
      method: 'POST',
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dave' }, password, refresh_token: true },
    });
    expectSpecResponse(login, 'login');
    const loggedIn = login.body as { access_token: string; refresh_token?: string; device_id: string };
    // A failed login logs something too; the wrong password must not be in it either.
    const wrongPassword = `${password}-wrong`;
    expectMatrixError(
      await request(v3('/login'), { method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dave' }, password: wrongPassword } }),
      403,
      'M_FORBIDDEN',
    );
    const secrets = [password, wrongPassword, reg.access_token, loggedIn.access_token, alice.accessToken, bob.accessToken, carol.accessToken, alice.password];
    if (reg.refresh_token !== undefined) secrets.push(reg.refresh_token);
    if (loggedIn.refresh_token !== undefined) {
      secrets.push(loggedIn.refresh_token);
      const refreshed = await request(v3('/refresh'), { method: 'POST', body: { refresh_token: loggedIn.refresh_token } });
      expectSpecResponse(refreshed, 'refresh');
      const tokens = refreshed.body as { access_token: string; refresh_token?: string };
      secrets.push(tokens.access_token);
      if (tokens.refresh_token !== undefined) secrets.push(tokens.refresh_token);
      loggedIn.access_token = tokens.access_token;
    }
    const dave = { accessToken: loggedIn.access_token } as RegisteredUser;
    // Tokens in the query string (a deprecated but allowed way to authenticate) too.
    expectSpecResponse(await request(v3(`/account/whoami?access_token=${enc(loggedIn.access_token)}`)), 'getTokenOwner');
    const created = await call(dave, 'POST', '/createRoom', {});
    const room = (created.body as { room_id: string }).room_id;
    expectSpecResponse(await call(dave, 'PUT', `/rooms/${enc(room)}/send/m.room.message/s1`, { msgtype: 'm.text', body: 'hello' }), 'sendMessage');
    const keys = await call(dave, 'POST', '/keys/upload', { one_time_keys: { 'signed_curve25519:AAAAAQ': { key: 'x'.repeat(43), signatures: {} } } });
    assert.ok(keys.status === 200 || keys.status === 400, keys.text);
    // Logs are written asynchronously; give the last lines a moment.
    await sleep(500);
    const logs = node.logs();
    assert.ok(logs.length > 0);
    for (const secret of secrets) assert.equal(logs.includes(secret), false, `a secret (${secret.slice(0, 6)}…) is in the log`);
    assert.equal(logs.includes(node.registrationSharedSecret), false, 'the registration shared secret is in the log');
  });
});
