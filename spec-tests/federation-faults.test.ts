// Misbehaving federation peers against a real node (issue 11 item 2; server-server
// § "Transactions", "Joining Rooms", "Retrieving server keys"). A room on the node has
// members on fake peers that hang on /send, trickle their answer, reset the connection,
// answer garbage or the wrong JSON shape, or stream a 100 MB body, and one member on a
// healthy in-process node. The node must give up on each bad peer within its request
// timeout and response-size limit, back off rather than hammer it, keep its memory bounded,
// and keep delivering to the healthy peer as if nothing were wrong. As a client of such
// peers (make_join, key fetches) it must answer its own client with a Matrix error, not hang.
//
// The faults all run at once, so the file waits out one request timeout (60 s), not one each.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signEvent } from '../src/crypto/event-signing.ts';
import { signedKeyDocument } from '../src/crypto/server-key-testing.ts';
import type { SigningKey } from '../src/crypto/signing-key.ts';
import { signRequest } from '../src/crypto/x-matrix.ts';
import { RemoteServer, testKey } from '../src/roomserver/testing.ts';
import { canonicalJson } from '../src/rooms/canonical-json.ts';
import { isJsonObject, type JsonObject } from '../src/rooms/json.ts';
import { parsePdu } from '../src/rooms/pdu/parse.ts';
import { roomVersionRules } from '../src/rooms/room-versions.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { eventually, startInProcessNode, type InProcessNode } from './rig/in-process-node.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { testCertificateAuthority } from './rig/tls.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;

type Fault = 'ok' | 'hang' | 'slow' | 'reset' | 'garbage' | 'wrong-shape' | 'huge';
const FAULTS: readonly Exclude<Fault, 'ok'>[] = ['hang', 'slow', 'reset', 'garbage', 'wrong-shape', 'huge'];
/** What the huge peer offers: far beyond any sane response limit. */
const HUGE_BYTES = 100 * 1024 * 1024;

/**
 * A fake homeserver: HTTPS on the run's test CA, its signing key at /_matrix/key/v2/server,
 * and a fault per kind of request. It records when the node called /send.
 */
class FakePeer {
  readonly serverName: string;
  readonly key: SigningKey;
  readonly #server: Server;
  /** Raw TCP sockets by remote port: a TLS socket cannot send a reset itself. */
  readonly #sockets = new Map<number, Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  sendFault: Fault = 'ok';
  keyFault: Fault = 'ok';
  makeJoinFault: Fault = 'ok';
  /** GET /event, POST /get_missing_events, GET /state_ids and /state: the node filling gaps. */
  fetchFault: Fault = 'ok';
  readonly fetches: string[] = [];
  readonly sendTimes: number[] = [];
  /** Body bytes this peer wrote towards the node, over all its huge answers. */
  hugeBytesWritten = 0;

  private constructor(server: Server, serverName: string, key: SigningKey) {
    this.#server = server;
    this.serverName = serverName;
    this.key = key;
    server.on('connection', (socket: Socket) => {
      const port = socket.remotePort ?? 0;
      this.#sockets.set(port, socket);
      socket.once('close', () => this.#sockets.delete(port));
    });
  }

  static async start(seed: number): Promise<FakePeer> {
    const leaf = await (await testCertificateAuthority()).issue('127.0.0.1');
    let peer: FakePeer | undefined;
    const server = createServer({ cert: leaf.certificate, key: leaf.privateKey }, (req, res) => peer?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer = new FakePeer(server, `127.0.0.1:${(server.address() as AddressInfo).port}`, testKey(seed, `fake${seed}`));
    return peer;
  }

  user(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    // Drain whatever the node sends so the socket stays healthy for the fault to act on.
    req.resume();
    if (url === '/_matrix/key/v2/server') {
      this.#answer(req, res, this.keyFault, signedKeyDocument({ serverName: this.serverName, key: this.key, validUntilTs: Date.now() + 86_400_000 }));
    } else if (url.startsWith('/_matrix/federation/v1/send/')) {
      this.sendTimes.push(Date.now());
      this.#answer(req, res, this.sendFault, { pdus: {} });
    } else if (/^\/_matrix\/federation\/v1\/(event|get_missing_events|state_ids|state)\//.test(url)) {
      this.fetches.push(url.split('?')[0]!);
      this.#answer(req, res, this.fetchFault, { errcode: 'M_NOT_FOUND', error: 'not here' }, 404);
    } else if (url.startsWith('/_matrix/federation/v1/make_join/')) {
      this.#answer(req, res, this.makeJoinFault, { errcode: 'M_NOT_FOUND', error: 'no such room' }, 404);
    } else {
      // Presence, typing, device lists and the like: accepted and ignored.
      this.#answer(req, res, 'ok', {});
    }
  }

  #answer(req: IncomingMessage, res: ServerResponse, fault: Fault, body: JsonObject, status = 200): void {
    switch (fault) {
      case 'ok':
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return;
      case 'hang':
        return;
      case 'slow': {
        // Headers at once, then one byte a second: each chunk beats a per-chunk timeout, so
        // only a bound on the whole request ends it.
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => {
          if (res.destroyed) {
            clearInterval(timer);
            this.#timers.delete(timer);
          } else res.write(' ');
        }, 1_000);
        this.#timers.add(timer);
        return;
      }
      case 'reset':
        this.#sockets.get(req.socket.remotePort ?? 0)?.resetAndDestroy();
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html><body>502 Bad Gateway</body></html>\u0000\uFFFF');
        return;
      case 'wrong-shape':
        res.writeHead(200, { 'content-type': 'application/json' }).end('[1,2,{"pdus":"x"}]');
        return;
      case 'huge':
        this.#streamHuge(res);
        return;
    }
  }

  /** A chunked body (no content-length to refuse up front) that never ends before 100 MB. */
  #streamHuge(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    res.write('{"pdus":{},"padding":"');
    const pump = (): void => {
      while (sent < HUGE_BYTES && !res.destroyed) {
        sent += chunk.length;
        this.hugeBytesWritten += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  }

  /** A request signed as this server, to the node's federation listener. */
  async call(node: TestNode, method: string, uri: string, content?: JsonObject): Promise<HttpResponse> {
    const authorization = signRequest({ method, uri, origin: this.serverName, destination: node.serverName, content }, this.key);
    return request(`${node.federationUrl}${uri}`, {
      method,
      headers: { authorization, ...(content === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(content === undefined ? {} : { body: canonicalJson(content) }),
      ca: node.caCertificate,
    });
  }

  /** make_join + send_join as `user` (server-server § "Joining Rooms"), done by hand. */
  async join(node: TestNode, roomId: string, userId: string): Promise<void> {
    const made = await this.call(node, 'GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}?ver=12&ver=11&ver=10`);
    assert.equal(made.status, 200, made.text);
    const { room_version: roomVersion, event: template } = made.body as { room_version: string; event: JsonObject };
    const rules = roomVersionRules(roomVersion);
    assert.ok(rules !== undefined && isJsonObject(template));
    const event: JsonObject = { ...template, origin_server_ts: Date.now(), content: { membership: 'join' } };
    delete event['signatures'];
    delete event['hashes'];
    const signed = signEvent(event, this.serverName, this.key, rules);
    const parsed = parsePdu({ raw: signed, roomVersion });
    assert.ok(parsed.ok);
    const sent = await this.call(node, 'PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(parsed.pdu.eventId)}`, signed);
    assert.equal(sent.status, 200, sent.text);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets.values()) socket.destroy();
    });
  }
}

let node: TestNode;
let healthy: InProcessNode;
let tmp: string;
let alice: RegisteredUser;
let roomId: string;
/** A second room, for the gap-fetch test: the node serialises work per room. */
let gapRoomId: string;
const peers = new Map<Fault, FakePeer>();
/** Peers never in the room: the node is their client (make_join) or fetches their key. */
const strangers = new Map<Exclude<Fault, 'ok'>, FakePeer>();
let txn = 0;

async function client(method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, { method, headers: authHeaders(alice), ...(body === undefined ? {} : { body }) });
}

async function say(text: string, room = roomId): Promise<string> {
  const res = await client('PUT', `/rooms/${enc(room)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body: text });
  expectSpecResponse(res, 'sendMessage');
  return (res.body as { event_id: string }).event_id;
}

/** Resident memory of the node's process, in bytes (Linux). */
async function rss(): Promise<number> {
  const status = await readFile(`/proc/${node.pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  assert.ok(match !== null);
  return Number(match[1]) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'stoa-faults-'));
  const caPath = join(tmp, 'ca.crt');
  await writeFile(caPath, (await testCertificateAuthority()).certificate);
  [[node], healthy] = await Promise.all([startNodes(1, { tls: true }) as Promise<[TestNode]>, startInProcessNode(41, caPath)]);
  let seed = 50;
  for (const fault of ['ok', ...FAULTS] as const) peers.set(fault, await FakePeer.start(seed++));
  for (const fault of FAULTS) strangers.set(fault, await FakePeer.start(seed++));
  alice = await registerUser(node, 'alice');
  const created = await client('POST', '/createRoom', { preset: 'public_chat', name: 'faults' });
  roomId = String((created.body as { room_id: string }).room_id);
  for (const peer of peers.values()) await peer.join(node, roomId, peer.user('member'));
  await healthy.federation.remoteMembership.join({ roomId, userId: healthy.user('bob'), servers: [node.serverName], content: {} });
  const gapRoom = await client('POST', '/createRoom', { preset: 'public_chat', name: 'gaps' });
  gapRoomId = String((gapRoom.body as { room_id: string }).room_id);
  await peers.get('ok')!.join(node, gapRoomId, peers.get('ok')!.user('member'));
  // After the fake member, so the healthy node's view includes it (it builds its events below).
  await healthy.federation.remoteMembership.join({ roomId: gapRoomId, userId: healthy.user('bob'), servers: [node.serverName], content: {} });
});

after(async () => {
  for (const peer of [...peers.values(), ...strangers.values()]) await peer.close();
  await stopNodes(node === undefined ? [] : [node]);
  await healthy?.close();
  await rm(tmp, { recursive: true, force: true });
});

// Concurrently: each test waits out a 60 s timeout, and they touch different peers.
describe('server-server § Transactions: the node against misbehaving peers', { concurrency: true }, () => {
  test('faulty destinations time out, back off and stay bounded while a healthy one gets every event at once', async () => {
    // Every peer works while the room is set up; the node has delivered to each of them.
    const first = await say('before the faults');
    await eventually('the healthy peer has the first message', async () => ((await healthy.roomserver.event(first, 'stored')) === undefined ? undefined : true));
    for (const [fault, peer] of peers) {
      await eventually(`${fault} peer received a transaction`, async () => (peer.sendTimes.length > 0 ? true : undefined));
    }
    const rssBefore = await rss();
    let rssMax = rssBefore;
    const sampler = setInterval(() => {
      rss().then((value) => (rssMax = Math.max(rssMax, value)), () => undefined);
    }, 200);
    // A failed assertion below must not leave the test process running.
    sampler.unref();
    for (const [fault, peer] of peers) if (fault !== 'ok') peer.sendFault = fault;
    const startedAt = Date.now();
    for (const peer of peers.values()) peer.sendTimes.length = 0;

    // Messages every second for longer than one request timeout (60 s) plus the first retries.
    const latencies: number[] = [];
    let sent = 0;
    while (Date.now() - startedAt < 75_000) {
      const sentAt = Date.now();
      const eventId = await say(`message ${++sent} while peers misbehave`);
      await eventually('the healthy peer has the message', async () => ((await healthy.roomserver.event(eventId, 'stored')) === undefined ? undefined : true));
      latencies.push(Date.now() - sentAt);
      const pause = 1_000 - (Date.now() - sentAt);
      if (pause > 0) await sleep(pause);
    }
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    const max = latencies[latencies.length - 1]!;
    console.log(`healthy-peer delivery under faults: ${latencies.length} messages, p50 ${p50} ms, max ${max} ms`);
    // Each message reached the healthy peer on its own (eventually's 20 s bound); a healthy
    // destination must not wait for a bad one's timeout.
    assert.ok(max < 20_000, `slowest delivery to the healthy peer took ${max} ms`);

    // The fake peer that plays along kept getting transactions.
    assert.ok(peers.get('ok')!.sendTimes.length >= 1);
    for (const fault of FAULTS) {
      const times = peers.get(fault)!.sendTimes;
      // A retry after the first attempt: the first one was given up on, whatever the fault.
      assert.ok(times.length >= 2, `${fault}: ${times.length} attempts in 75 s — the first never ended`);
      // Backoff: far fewer attempts than messages (1 s, 2 s, 4 s … after each failure).
      assert.ok(times.length <= 10, `${fault}: ${times.length} attempts in 75 s — no backoff`);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      console.log(`${fault}: ${times.length} attempts, gaps ${gaps.map((g) => `${Math.round(g / 100) / 10}s`).join(', ')}`);
    }
    const huge = peers.get('huge')!;
    // Cut off near the response limit (16 MiB), not after 100 MB per attempt.
    const attempts = huge.sendTimes.length;
    assert.ok(huge.hugeBytesWritten < attempts * 40 * 1024 * 1024, `the node read ${huge.hugeBytesWritten} bytes over ${attempts} attempts`);
    clearInterval(sampler);
    console.log(`node RSS ${Math.round(rssBefore / 1048576)} MiB before the faults, at most ${Math.round(rssMax / 1048576)} MiB during them`);
    // Buffering one 100 MB answer alone would add more than this.
    assert.ok(rssMax - rssBefore < 96 * 1024 * 1024, `RSS grew by ${rssMax - rssBefore} bytes`);

    // The node still serves its clients.
    expectSpecResponse(await client('GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=5`), 'getRoomEvents');
  });

  test('the node as a client: make_join to a faulty peer ends in a Matrix error, as do requests signed by a peer whose key cannot be fetched', async () => {
    for (const [fault, peer] of strangers) {
      peer.makeJoinFault = fault;
      peer.keyFault = fault;
    }
    // And a tarpit: accepts TCP connections and never says a word (not even a TLS handshake).
    const held: Socket[] = [];
    const tarpit = createTcpServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const tarpitName = `127.0.0.1:${(tarpit.address() as AddressInfo).port}`;
    const tarpitJoin = (async () => {
      const startedAt = Date.now();
      const joined = await client('POST', `/join/${enc(`!nowhere:${tarpitName}`)}?server_name=${enc(tarpitName)}`, {});
      return { joined, joinMs: Date.now() - startedAt };
    })();
    const results = await Promise.all(
      [...strangers].map(async ([fault, peer]) => {
        const startedAt = Date.now();
        const [[joined, joinMs], [profile, profileMs]] = await Promise.all([
          client('POST', `/join/${enc(`!nowhere:${peer.serverName}`)}?server_name=${enc(peer.serverName)}`, {}).then((r) => [r, Date.now() - startedAt] as const),
          peer.call(node, 'GET', `/_matrix/federation/v1/query/profile?user_id=${enc(alice.userId)}`).then((r) => [r, Date.now() - startedAt] as const),
        ]);
        return { fault, joined, joinMs, profile, profileMs };
      }),
    );
    const { joined: tarpitJoined, joinMs: tarpitMs } = await tarpitJoin;
    for (const socket of held) socket.destroy();
    tarpit.close();
    console.log(`tarpit: join answered ${tarpitJoined.status} after ${tarpitMs} ms`);
    expectMatrixError(tarpitJoined, 502, 'M_UNKNOWN');
    for (const { fault, joined, joinMs, profile, profileMs } of results) {
      console.log(`${fault}: join answered ${joined.status} after ${joinMs} ms; key fetch → ${profile.status} after ${profileMs} ms`);
      assert.ok(joined.status >= 400 && joined.status < 600, `${fault}: join answered ${joined.status}`);
      expectMatrixError(joined, joined.status, (joined.body as { errcode?: string } | undefined)?.errcode ?? 'M_UNKNOWN');
      // A request whose signature cannot be checked is not authorised (server-server § "Request Authentication").
      assert.ok(profile.status === 401 || profile.status === 403, `${fault}: ${profile.status} ${profile.text}`);
      expectMatrixError(profile, profile.status, (profile.body as { errcode?: string } | undefined)?.errcode ?? 'M_UNAUTHORIZED');
    }
  });

  test('server-server § Retrieving events: a PDU whose gap must be fetched from a hanging origin does not hold up local sends in the room', async () => {
    const peer = peers.get('ok')!;
    const roomVersion = (await healthy.roomserver.roomVersion(gapRoomId))!;
    const builder = new RemoteServer(peer.serverName, peer.key);
    // A is known to the healthy node only (it forwards no one else's events); B follows A.
    const a = await builder.buildEvent(healthy.roomserver, gapRoomId, { type: 'm.room.message', sender: peer.user('member'), content: { msgtype: 'm.text', body: 'A' }, originServerTs: Date.now() });
    const stored = await healthy.roomserver.receivePdu(a, peer.serverName, { roomVersion });
    assert.equal(stored.outcome, 'accepted', JSON.stringify(stored));
    const aId = parsePdu({ raw: a, roomVersion });
    assert.ok(aId.ok);
    const b = await builder.buildEvent(healthy.roomserver, gapRoomId, {
      type: 'm.room.message',
      sender: peer.user('member'),
      content: { msgtype: 'm.text', body: 'B' },
      prevEvents: [aId.pdu.eventId],
      originServerTs: Date.now(),
    });
    peer.fetchFault = 'hang';
    const sentAt = Date.now();
    const transaction = peer.call(node, 'PUT', `/_matrix/federation/v1/send/gap-${Date.now()}`, { origin: peer.serverName, origin_server_ts: Date.now(), pdus: [b] });
    // Handled here too, in case an assertion below fails before it is awaited and the node stops.
    void transaction.catch(() => undefined);
    await eventually('the node asks the origin for the gap', async () => (peer.fetches.length > 0 ? true : undefined));
    // While the node waits on the hanging origin, the room's own users carry on.
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const at = Date.now();
      const eventId = await say(`local message ${i} during the gap fetch`, gapRoomId);
      await eventually('the healthy peer has the local message', async () => ((await healthy.roomserver.event(eventId, 'stored')) === undefined ? undefined : true));
      latencies.push(Date.now() - at);
    }
    console.log(`local sends while a gap fetch hangs: ${latencies.join(', ')} ms; the origin was asked: ${peer.fetches.join(', ')}`);
    for (const latency of latencies) assert.ok(latency < 10_000, `a local send waited ${latency} ms behind the gap fetch`);
    // The transaction itself ends once the node gives up on the gap (bounded, not forever).
    const answered = await transaction;
    const transactionMs = Date.now() - sentAt;
    console.log(`the /send with a gap answered ${answered.status} after ${transactionMs} ms`);
    expectSpecResponse(answered, 'sendTransaction');
  });
});
