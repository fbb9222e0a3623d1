// Application services on a real node (issue 10 item 1; content/application-service-api.md):
// § "Registration" (files from app_service_config_files), § "Pushing events" (ordered,
// retried transactions), § "Querying" (users, aliases), § "Pinging", and the client-server
// extensions § "Identity assertion" and § "Server admin style permissions" (registration,
// login, exclusive namespaces).
//
// Two services: a real one, matrix-appservice-bridge (its virtual users join and answer),
// and a plain HTTP server the test controls (records requests, goes down, fails once).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ok } from './rig/client-calls.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { findFreePort, runStoaCommand, startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;
const enc = encodeURIComponent;

// matrix-appservice-bridge loads @matrix-org/matrix-sdk-crypto-nodejs through matrix-bot-sdk;
// its native binary is not installed here and this test does not encrypt, so a stub stands in.
const CRYPTO_STUB = new URL('./rig/matrix-sdk-crypto-stub.cjs', import.meta.url).href;
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === '@matrix-org/matrix-sdk-crypto-nodejs') return { url: CRYPTO_STUB, shortCircuit: true, format: 'commonjs' };
    return next(specifier, context);
  },
});

// --- the controllable service ------------------------------------------------------------

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: Json | undefined;
}

const RAW = { id: 'raw', asToken: 'raw-as-token', hsToken: 'raw-hs-token' };
const BRIDGE = { id: 'bridge', asToken: 'bridge-as-token', hsToken: 'bridge-hs-token' };
const NO_URL = { id: 'silent', asToken: 'silent-as-token', hsToken: 'silent-hs-token' };

/** A service answering 200, or as told; it records every request. */
class RawAppService {
  readonly requests: RecordedRequest[] = [];
  /** How many of the next transactions to answer with 500. */
  failNextTransactions = 0;
  pingStatus = 200;
  /** Answers user and alias queries. */
  onQuery: (kind: 'users' | 'rooms', id: string) => Promise<number> = async () => 404;
  #server: Server | undefined;
  readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  get transactions(): Array<{ txnId: string; events: Json[] }> {
    return this.requests
      .filter((r) => r.method === 'PUT' && r.path.startsWith('/_matrix/app/v1/transactions/'))
      .map((r) => ({ txnId: decodeURIComponent(r.path.slice('/_matrix/app/v1/transactions/'.length)), events: (r.body?.['events'] ?? []) as Json[] }));
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = text === '' ? undefined : (JSON.parse(text) as Json);
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization, body });
    const reply = (status: number, json: Json) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.headers.authorization !== `Bearer ${RAW.hsToken}`) return reply(403, { errcode: 'M_FORBIDDEN' });
    if (url.pathname.startsWith('/_matrix/app/v1/transactions/')) {
      if (this.failNextTransactions > 0) {
        this.failNextTransactions--;
        return reply(500, { errcode: 'M_UNKNOWN' });
      }
      return reply(200, {});
    }
    if (url.pathname === '/_matrix/app/v1/ping') return reply(this.pingStatus, this.pingStatus === 200 ? {} : { errcode: 'M_FORBIDDEN' });
    const query = /^\/_matrix\/app\/v1\/(users|rooms)\/(.+)$/.exec(url.pathname);
    if (query !== null) {
      const status = await this.onQuery(query[1] as 'users' | 'rooms', decodeURIComponent(query[2]!));
      return reply(status, status === 200 ? {} : { errcode: 'M_NOT_FOUND' });
    }
    reply(404, { errcode: 'M_UNRECOGNIZED' });
  }
}

// --- setup -------------------------------------------------------------------------------

let node: TestNode;
let dir: string;
let raw: RawAppService;
let alice: RegisteredUser;
let bridge: { close(): Promise<void> } | undefined;
let bridgeSeen: Json[] = [];
let txn = 0;

function registrationYaml(service: { id: string; asToken: string; hsToken: string }, url: string | null, sender: string, namespaces: string, extra = ''): string {
  return [
    `id: ${service.id}`,
    `url: ${url === null ? 'null' : JSON.stringify(url)}`,
    `as_token: ${service.asToken}`,
    `hs_token: ${service.hsToken}`,
    `sender_localpart: ${sender}`,
    'namespaces:',
    namespaces,
    extra,
  ].join('\n');
}

async function client(token: string, method: string, pathAndQuery: string, body?: unknown, version = 'v3'): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/${version}${pathAndQuery}`, {
    method,
    headers: { Authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body }),
  });
}
async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const userId = (localpart: string) => `@${localpart}:${node.serverName}`;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stoa-appservice-'));
  const rawPort = await findFreePort();
  const bridgePort = await findFreePort();
  raw = new RawAppService(rawPort);
  await raw.start();
  const files = {
    raw: path.join(dir, 'raw.yaml'),
    bridge: path.join(dir, 'bridge.yaml'),
    silent: path.join(dir, 'silent.yaml'),
  };
  await writeFile(
    files.raw,
    registrationYaml(RAW, `http://127.0.0.1:${rawPort}`, '_raw_bot', [
      '  users: [{ exclusive: true, regex: "@_raw_.*" }]',
      '  aliases: [{ exclusive: true, regex: "#_raw_.*" }]',
      '  rooms: []',
    ].join('\n'), 'receive_ephemeral: true'),
  );
  await writeFile(
    files.bridge,
    registrationYaml(BRIDGE, `http://127.0.0.1:${bridgePort}`, 'bridgebot', '  users: [{ exclusive: true, regex: "@bridge_.*" }]', 'rate_limited: false'),
  );
  await writeFile(files.silent, registrationYaml(NO_URL, null, '_silent_bot', '  users: []'));
  node = (
    await startNodes(1, {
      configOverrides: {
        app_service_config_files: [files.raw, files.bridge, files.silent],
        // Sending is limited (10 events per user, hardly refilled), for the rate_limited test.
        rate_limits: { enabled: true, message: { per_second: 0.01, burst: 10 }, registration: { per_second: 10, burst: 1000 } },
      },
    })
  )[0]!;
  alice = await registerUser(node, 'alice');
  bridge = await startBridge(files.bridge, bridgePort);
});

after(async () => {
  await bridge?.close();
  await raw?.stop();
  if (node !== undefined) await stopNodes([node]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** matrix-appservice-bridge: virtual users join when invited and echo what humans say. */
async function startBridge(registrationFile: string, port: number): Promise<{ close(): Promise<void> }> {
  const { Bridge } = await import('matrix-appservice-bridge');
  const instance = new Bridge({
    homeserverUrl: node.clientUrl,
    domain: node.serverName,
    // The same registration file the homeserver reads.
    registration: registrationFile,
    disableStores: true,
    disableContext: true,
    controller: {
      onEvent: (req) => {
        const event = req.getData() as unknown as Json;
        bridgeSeen.push(event);
        const content = event['content'] as Json;
        const roomId = event['room_id'] as string;
        const stateKey = event['state_key'];
        void (async () => {
          if (event['type'] === 'm.room.member' && content['membership'] === 'invite' && typeof stateKey === 'string' && stateKey.startsWith('@bridge_')) {
            await instance.getIntent(stateKey).join(roomId);
          } else if (event['type'] === 'm.room.message' && !(event['sender'] as string).startsWith('@bridge_')) {
            await instance.getIntent(userId('bridge_alice')).sendText(roomId, `echo: ${String(content['body'])}`);
          }
        })().catch((err: unknown) => bridgeSeen.push({ error: String(err) }));
      },
    },
  });
  await instance.initialise();
  await instance.listen(port, '127.0.0.1');
  return { close: () => instance.close() };
}

// --- the real bridge ---------------------------------------------------------------------

test('application-service-api § Pushing events: matrix-appservice-bridge is invited, joins as its virtual user and replies', async () => {
  const roomId = (await ok(client(alice.accessToken, 'POST', '/createRoom', { invite: [userId('bridge_alice')] })))['room_id'] as string;
  await waitFor('the virtual user to join', async () => {
    const members = await client(alice.accessToken, 'GET', `/rooms/${enc(roomId)}/joined_members`);
    return (members.body as { joined?: Json }).joined?.[userId('bridge_alice')] === undefined ? undefined : true;
  });
  await ok(client(alice.accessToken, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body: 'hello bridge' }));
  const reply = await waitFor('the reply in /sync', async () => {
    const res = await client(alice.accessToken, 'GET', '/sync');
    expectSpecResponse(res, 'sync');
    const timeline = ((((res.body as Json)['rooms'] as Json)['join'] as Record<string, Json>)[roomId]?.['timeline'] as Json | undefined)?.['events'] as Json[] | undefined;
    return timeline?.find((e) => e['sender'] === userId('bridge_alice') && (e['content'] as Json)['body'] === 'echo: hello bridge');
  });
  assert.equal(reply['type'], 'm.room.message');
  assert.ok(!bridgeSeen.some((e) => 'error' in e), JSON.stringify(bridgeSeen.filter((e) => 'error' in e)));
  assert.ok(bridgeSeen.some((e) => e['type'] === 'm.room.member' && e['state_key'] === userId('bridge_alice')), 'the bridge saw the invite');
});

// --- registration, login and exclusive namespaces ---------------------------------------

describe('application-service-api § Server admin style permissions', () => {
  test('POST /register with m.login.application_service creates a user in the namespace, without UIA', async () => {
    const res = await client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: '_raw_carol' });
    expectSpecResponse(res, 'register');
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as Json)['user_id'], userId('_raw_carol'));
    const inhibited = await client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: '_raw_dave', inhibit_login: true });
    expectSpecResponse(inhibited, 'register');
    assert.deepEqual(Object.keys(inhibited.body as Json).sort(), ['home_server', 'user_id']);
    expectMatrixError(await client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: '_raw_carol' }), 400, 'M_USER_IN_USE');
  });

  test('a service cannot register outside its namespaces, nor in another service\'s exclusive one (M_EXCLUSIVE)', async () => {
    expectMatrixError(await client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: 'plainname' }), 400, 'M_EXCLUSIVE');
    expectMatrixError(await client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: 'bridge_zed' }), 400, 'M_EXCLUSIVE');
  });

  test('client-server § Login: GET /login lists m.login.application_service when services are registered', async () => {
    const flows = await request(`${node.clientUrl}/_matrix/client/v3/login`);
    expectSpecResponse(flows, 'getLoginFlows');
    assert.ok((flows.body as { flows: Array<{ type: string }> }).flows.some((f) => f.type === 'm.login.application_service'));
  });

  test('m.login.application_service without a valid as_token is 401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN', async () => {
    const anonymous = await request(`${node.clientUrl}/_matrix/client/v3/register`, { method: 'POST', body: { type: 'm.login.application_service', username: '_raw_x' } });
    expectMatrixError(anonymous, 401, 'M_MISSING_TOKEN');
    expectMatrixError(await client(alice.accessToken, 'POST', '/register', { type: 'm.login.application_service', username: '_raw_x' }), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await client(alice.accessToken, 'POST', '/login', { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: '_raw_carol' } }), 401, 'M_UNKNOWN_TOKEN');
  });

  test('people cannot register in an exclusive namespace (M_EXCLUSIVE)', async () => {
    const res = await request(`${node.clientUrl}/_matrix/client/v3/register`, { method: 'POST', body: { username: '_raw_mallory', password: 'pw-12345678' } });
    expectMatrixError(res, 400, 'M_EXCLUSIVE');
    expectMatrixError(await request(`${node.clientUrl}/_matrix/client/v3/register/available?username=bridge_x`), 400, 'M_EXCLUSIVE');
  });

  test('POST /login with m.login.application_service logs in as a user of the namespace', async () => {
    const res = await client(RAW.asToken, 'POST', '/login', { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: '_raw_carol' } });
    expectSpecResponse(res, 'login');
    assert.equal((res.body as Json)['user_id'], userId('_raw_carol'));
    const whoami = await client((res.body as Json)['access_token'] as string, 'GET', '/account/whoami');
    assert.equal((whoami.body as Json)['user_id'], userId('_raw_carol'));
    expectMatrixError(await client(RAW.asToken, 'POST', '/login', { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: 'alice' } }), 400, 'M_EXCLUSIVE');
  });

  test('aliases in an exclusive namespace are the service\'s alone (M_EXCLUSIVE)', async () => {
    const roomId = (await ok(client(alice.accessToken, 'POST', '/createRoom', {})))['room_id'] as string;
    const alias = `#_raw_taken:${node.serverName}`;
    expectMatrixError(await client(alice.accessToken, 'PUT', `/directory/room/${enc(alias)}`, { room_id: roomId }), 400, 'M_EXCLUSIVE');
    expectMatrixError(await client(alice.accessToken, 'POST', '/createRoom', { room_alias_name: '_raw_other' }), 400, 'M_EXCLUSIVE');
    const own = (await ok(client(RAW.asToken, 'POST', '/createRoom', { room_alias_name: '_raw_own' })))['room_id'];
    const resolved = await request(`${node.clientUrl}/_matrix/client/v3/directory/room/${enc(`#_raw_own:${node.serverName}`)}`);
    expectSpecResponse(resolved, 'getRoomIdByAlias');
    assert.equal((resolved.body as Json)['room_id'], own);
  });
});

// --- identity assertion ------------------------------------------------------------------

describe('application-service-api § Identity assertion', () => {
  test('the as_token acts as the sender_localpart user, or as a namespace user with ?user_id=', async () => {
    const self = await client(RAW.asToken, 'GET', '/account/whoami');
    expectSpecResponse(self, 'getTokenOwner');
    assert.equal((self.body as Json)['user_id'], userId('_raw_bot'));
    const carol = await client(RAW.asToken, 'GET', `/account/whoami?user_id=${enc(userId('_raw_carol'))}`);
    expectSpecResponse(carol, 'getTokenOwner');
    assert.equal((carol.body as Json)['user_id'], userId('_raw_carol'));
    // An ordinary token ignores user_id.
    const plain = await client(alice.accessToken, 'GET', `/account/whoami?user_id=${enc(userId('_raw_carol'))}`);
    assert.equal((plain.body as Json)['user_id'], alice.userId);
  });

  test('a user outside the namespace is 403 M_FORBIDDEN', async () => {
    expectMatrixError(await client(RAW.asToken, 'GET', `/account/whoami?user_id=${enc(alice.userId)}`), 403, 'M_FORBIDDEN');
    expectMatrixError(await client(RAW.asToken, 'GET', `/account/whoami?user_id=${enc(userId('bridge_alice'))}`), 403, 'M_FORBIDDEN');
  });

  test('device_id masquerading: the user\'s device is taken, another is 400 M_UNKNOWN_DEVICE', async () => {
    const login = await ok(client(RAW.asToken, 'POST', '/login', { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: '_raw_carol' }, device_id: 'CAROLDEV' }));
    assert.equal(login['device_id'], 'CAROLDEV');
    const res = await client(RAW.asToken, 'GET', `/account/whoami?user_id=${enc(userId('_raw_carol'))}&device_id=CAROLDEV`);
    expectSpecResponse(res, 'getTokenOwner');
    assert.equal((res.body as Json)['device_id'], 'CAROLDEV');
    expectMatrixError(await client(RAW.asToken, 'GET', `/account/whoami?user_id=${enc(userId('_raw_carol'))}&device_id=NOPE`), 400, 'M_UNKNOWN_DEVICE');
  });
});

// --- ping --------------------------------------------------------------------------------

describe('application-service-api § Pinging', () => {
  const ping = (token: string, id: string) => client(token, 'POST', `/appservice/${enc(id)}/ping`, { transaction_id: 'meow' }, 'v1');

  test('POST /appservice/{id}/ping calls the service and answers duration_ms', async () => {
    const res = await ping(RAW.asToken, RAW.id);
    expectSpecResponse(res, 'pingAppservice');
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof (res.body as Json)['duration_ms'], 'number');
    const seen = raw.requests.findLast((r) => r.path === '/_matrix/app/v1/ping');
    assert.deepEqual(seen?.body, { transaction_id: 'meow' });
    assert.equal(seen?.authorization, `Bearer ${RAW.hsToken}`);
  });

  test('another service\'s ID, or a user token, is 403 M_FORBIDDEN; no URL is 400 M_URL_NOT_SET', async () => {
    const other = await ping(RAW.asToken, BRIDGE.id);
    expectSpecResponse(other, 'pingAppservice');
    expectMatrixError(other, 403, 'M_FORBIDDEN');
    expectMatrixError(await ping(alice.accessToken, RAW.id), 403, 'M_FORBIDDEN');
    const silent = await ping(NO_URL.asToken, NO_URL.id);
    expectSpecResponse(silent, 'pingAppservice');
    expectMatrixError(silent, 400, 'M_URL_NOT_SET');
  });

  test('a bad status is 502 M_BAD_STATUS with status and body; an unreachable service 502 M_CONNECTION_FAILED', async () => {
    raw.pingStatus = 403;
    try {
      const res = await ping(RAW.asToken, RAW.id);
      expectSpecResponse(res, 'pingAppservice');
      expectMatrixError(res, 502, 'M_BAD_STATUS');
      assert.equal((res.body as Json)['status'], 403);
      assert.match((res.body as Json)['body'] as string, /M_FORBIDDEN/);
    } finally {
      raw.pingStatus = 200;
    }
    await raw.stop();
    try {
      const res = await ping(RAW.asToken, RAW.id);
      expectSpecResponse(res, 'pingAppservice');
      expectMatrixError(res, 502, 'M_CONNECTION_FAILED');
    } finally {
      await raw.start();
    }
  });
});

// --- queries -----------------------------------------------------------------------------

describe('application-service-api § Querying', () => {
  test('a profile lookup of an unknown namespace user asks the service, which may create it', async () => {
    raw.onQuery = async (kind, id) => {
      if (kind !== 'users' || id !== userId('_raw_newbie')) return 404;
      await ok(client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: '_raw_newbie', inhibit_login: true }));
      return 200;
    };
    const res = await client(alice.accessToken, 'GET', `/profile/${enc(userId('_raw_newbie'))}`);
    expectSpecResponse(res, 'getUserProfile');
    assert.equal(res.status, 200, res.text);
    const ghost = await client(alice.accessToken, 'GET', `/profile/${enc(userId('_raw_ghost'))}`);
    expectMatrixError(ghost, 404, 'M_NOT_FOUND');
    assert.ok(raw.requests.some((r) => r.method === 'GET' && r.path === `/_matrix/app/v1/users/${enc(userId('_raw_ghost'))}`));
  });

  test('resolving an unknown alias in a namespace asks the service, which may create it', async () => {
    const alias = `#_raw_lobby:${node.serverName}`;
    let created: unknown;
    raw.onQuery = async (kind, id) => {
      if (kind !== 'rooms' || id !== alias) return 404;
      created = (await ok(client(RAW.asToken, 'POST', '/createRoom', { room_alias_name: '_raw_lobby' })))['room_id'];
      return 200;
    };
    const res = await request(`${node.clientUrl}/_matrix/client/v3/directory/room/${enc(alias)}`);
    expectSpecResponse(res, 'getRoomIdByAlias');
    assert.equal((res.body as Json)['room_id'], created);
    expectMatrixError(await request(`${node.clientUrl}/_matrix/client/v3/directory/room/${enc(`#_raw_nowhere:${node.serverName}`)}`), 404, 'M_NOT_FOUND');
  });
});

// --- transactions ------------------------------------------------------------------------

describe('application-service-api § Pushing events', () => {
  let roomId: string;
  const bodiesIn = (events: readonly Json[]) =>
    events.filter((e) => e['type'] === 'm.room.message' && e['room_id'] === roomId).map((e) => (e['content'] as Json)['body'] as string);
  const delivered = () => bodiesIn(raw.transactions.flatMap((t) => t.events));
  const say = (body: string) => ok(client(alice.accessToken, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body }));

  before(async () => {
    roomId = (await ok(client(alice.accessToken, 'POST', '/createRoom', { preset: 'public_chat' })))['room_id'] as string;
    await ok(client(RAW.asToken, 'POST', `/rooms/${enc(roomId)}/join?user_id=${enc(userId('_raw_carol'))}`, {}));
  });

  test('events of rooms with the service\'s users arrive as client events, with the hs_token', async () => {
    await say('one');
    await waitFor('"one" to arrive', () => (delivered().includes('one') ? true : undefined));
    const put = raw.requests.find((r) => r.method === 'PUT' && bodiesIn((r.body?.['events'] ?? []) as Json[]).includes('one'));
    assert.equal(put?.authorization, `Bearer ${RAW.hsToken}`);
    const event = ((put?.body?.['events'] ?? []) as Json[]).find((e) => (e['content'] as Json | undefined)?.['body'] === 'one');
    assert.equal(event?.['sender'], alice.userId);
    assert.equal(typeof event?.['event_id'], 'string');
    assert.equal(typeof event?.['origin_server_ts'], 'number');
    // The join of the namespace user was pushed too (its state_key is in the namespace).
    assert.ok(raw.transactions.some((t) => t.events.some((e) => e['type'] === 'm.room.member' && e['state_key'] === userId('_raw_carol'))));
  });

  test('a failed transaction is retried with the same ID and the same events', async () => {
    const before = raw.transactions.length;
    raw.failNextTransactions = 1;
    await say('two');
    await waitFor('"two" to arrive twice', () => (raw.transactions.slice(before).filter((t) => bodiesIn(t.events).includes('two')).length >= 2 ? true : undefined));
    const attempts = raw.transactions.slice(before).filter((t) => bodiesIn(t.events).includes('two'));
    assert.equal(attempts[0]!.txnId, attempts[1]!.txnId, 'the retry reuses the transaction ID');
    assert.deepEqual(attempts[1]!.events, attempts[0]!.events, 'the retry carries exactly the same events');
  });

  test('§ Pushing ephemeral data: typing and read receipts arrive under `ephemeral` with room_id', async () => {
    const eventId = (await say('read me'))['event_id'] as string;
    await ok(client(alice.accessToken, 'PUT', `/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { typing: true, timeout: 30_000 }));
    await ok(client(alice.accessToken, 'POST', `/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, {}));
    const ephemeral = () => raw.requests.filter((r) => r.method === 'PUT').flatMap((r) => (r.body?.['ephemeral'] ?? []) as Json[]);
    const typing = await waitFor('m.typing', () => ephemeral().find((e) => e['type'] === 'm.typing' && e['room_id'] === roomId));
    assert.deepEqual((typing['content'] as Json)['user_ids'], [alice.userId]);
    const receipt = await waitFor('m.receipt', () => ephemeral().find((e) => e['type'] === 'm.receipt' && e['room_id'] === roomId));
    const read = (((receipt['content'] as Json)[eventId] as Json)['m.read'] as Json)[alice.userId] as Json;
    assert.equal(typeof read['ts'], 'number');
    const put = raw.requests.find((r) => r.method === 'PUT' && ((r.body?.['ephemeral'] ?? []) as Json[]).length > 0);
    assert.deepEqual(put?.body?.['de.sorunome.msc2409.ephemeral'], put?.body?.['ephemeral'], 'the unstable name carries the same data');
  });

  test('events sent while the service is down arrive in order once it is back', async () => {
    await raw.stop();
    for (const body of ['three', 'four', 'five']) await say(body);
    await raw.start();
    await waitFor('"five" to arrive', () => (delivered().includes('five') ? true : undefined), 120_000);
    const order = delivered().filter((b, i, all) => all.indexOf(b) === i);
    assert.deepEqual(order, ['one', 'two', 'read me', 'three', 'four', 'five']);
    const ids = raw.transactions.map((t) => Number(t.txnId));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! >= ids[i - 1]!, 'transaction IDs never go back');
  });
});

// --- configuration -----------------------------------------------------------------------

test('application-service-api § Registration: a bad registration file stops the start with exit 2, naming file and key', async () => {
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, registrationYaml({ id: 'bad', asToken: 'x1', hsToken: 'x2' }, 'http://127.0.0.1:1', 'bad', '  users: [{ regex: "@bad_.*" }]'));
  const configFile = path.join(dir, 'homeserver.yaml');
  await writeFile(configFile, [`server_name: example.org`, `data_dir: ${JSON.stringify(path.join(dir, 'data'))}`, `app_service_config_files: [${JSON.stringify(bad)}]`].join('\n'));
  const result = await runStoaCommand(['start', '--config', configFile]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /bad\.yaml: namespaces\.users\[0\]\.exclusive: is required/);
});

test('push (client-server § "Push Notifications"): users a service holds exclusively are left out of push evaluation, as in Synapse', async () => {
  const bob = await registerUser(node, 'bob_push');
  const carol = userId('_raw_push_carol');
  await ok(client(RAW.asToken, 'POST', '/register', { type: 'm.login.application_service', username: '_raw_push_carol', inhibit_login: true }));
  const roomId = (await ok(client(alice.accessToken, 'POST', '/createRoom', { preset: 'public_chat' })))['room_id'] as string;
  await ok(client(bob.accessToken, 'POST', `/join/${enc(roomId)}`, {}));
  await ok(client(RAW.asToken, 'POST', `/join/${enc(roomId)}?user_id=${enc(carol)}`, {}));
  await ok(
    client(alice.accessToken, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/mention`, {
      msgtype: 'm.text',
      body: 'bob and carol, look',
      'm.mentions': { user_ids: [bob.userId, carol] },
    }),
  );
  // Both are evaluated in the same pass: once bob has the notification, carol's turn is over.
  let bobs: Json[] = [];
  for (let i = 0; i < 200 && bobs.length === 0; i++) {
    bobs = ((await ok(client(bob.accessToken, 'GET', '/notifications')))['notifications'] as Json[]).filter((n) => n['room_id'] === roomId);
    if (bobs.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(bobs.length, 1, 'bob is notified');
  const carols = ((await ok(client(RAW.asToken, 'GET', `/notifications?user_id=${enc(carol)}`)))['notifications'] as Json[]).filter((n) => n['room_id'] === roomId);
  assert.deepEqual(carols, []);
});

// Last: it uses up the raw service's sending budget.
test('application-service-api § Registration: rate_limited: false exempts the service from rate limits; other services are limited', async () => {
  const send = async (token: string, roomId: string, i: number) =>
    client(token, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/load${i}`, { msgtype: 'm.text', body: `load ${i}` });
  const bridgeRoom = (await ok(client(BRIDGE.asToken, 'POST', '/createRoom', {})))['room_id'] as string;
  for (let i = 0; i < 15; i++) {
    const res = await send(BRIDGE.asToken, bridgeRoom, i);
    assert.equal(res.status, 200, res.text);
  }
  const rawRoom = (await ok(client(RAW.asToken, 'POST', '/createRoom', {})))['room_id'] as string;
  const statuses: number[] = [];
  for (let i = 0; i < 15; i++) {
    const res = await send(RAW.asToken, rawRoom, i);
    if (res.status === 429) expectMatrixError(res, 429, 'M_LIMIT_EXCEEDED');
    statuses.push(res.status);
  }
  assert.ok(statuses.includes(429), `the rate-limited service is limited: ${statuses.join(',')}`);
});
