// PostgreSQL going away under load (issue 11 item 2). The shared PostgreSQL cluster is not
// ours to restart, so the node reaches it through a TCP proxy in this test: cutting every
// connection and refusing new ones is, to the node, the database server going down; letting
// them through again is it coming back. While it is down, requests must fail with a
// retryable Matrix error (503 M_UNKNOWN with Retry-After), never a crash or a 500 with a
// stack; afterwards service resumes by itself and every acknowledged event is there.
//
// Needs STOA_TEST_POSTGRES_URL; skipped without it.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;
const adminUrl = testPostgresUrl();

/** A TCP proxy to PostgreSQL that can drop every connection and refuse new ones. */
class CuttableProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Socket>();
  #down = false;
  /** Connections the proxy refused while down. */
  refused = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: { host: string; port: number }): Promise<CuttableProxy> {
    let proxy: CuttableProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttableProxy(server);
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    assert.ok(address !== null && typeof address !== 'string');
    return address.port;
  }

  accept(client: Socket, target: { host: string; port: number }): void {
    if (this.#down) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.#pairs.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.#pairs.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }

  /** The database "crashes": open connections reset, new ones refused. */
  cut(): void {
    this.#down = true;
    for (const socket of this.#pairs) socket.resetAndDestroy();
  }

  restore(): void {
    this.#down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let proxy: CuttableProxy;
let node: TestNode;
let alice: RegisteredUser;
let roomId: string;
const dbName = `stoa_dbfault_${randomBytes(5).toString('hex')}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function client(method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, { method, headers: authHeaders(alice), ...(body === undefined ? {} : { body }) });
}

describe('database faults', { skip: adminUrl === undefined ? 'STOA_TEST_POSTGRES_URL is not set' : false }, () => {
  before(async () => {
    const target = new URL(adminUrl!);
    proxy = await CuttableProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    await admin((c) => c.query(`create database ${dbName}`));
    const viaProxy = new URL(adminUrl!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    viaProxy.pathname = `/${dbName}`;
    [node] = (await startNodes(1, { engine: 'postgres', configOverrides: { database: { engine: 'postgres', url: viaProxy.toString() } } })) as [TestNode];
    alice = await registerUser(node, 'alice');
    const created = await client('POST', '/createRoom', { name: 'db faults' });
    roomId = String((created.body as { room_id: string }).room_id);
  });

  after(async () => {
    await stopNodes(node === undefined ? [] : [node]);
    await proxy?.close();
    await admin((c) => c.query(`drop database if exists ${dbName} with (force)`));
  });

  test('client-server-api § Standard error response: PostgreSQL going away under load gives 503 M_UNKNOWN, no crash, and service resumes by itself', async () => {
    const acknowledged: string[] = [];
    const failures: HttpResponse[] = [];
    let sendsAfterRestore = 0;
    let restored = false;
    let stop = false;
    let txn = 0;
    const sender = async (n: number): Promise<void> => {
      while (!stop) {
        const res = await client('PUT', `/rooms/${enc(roomId)}/send/m.room.message/s${n}-${++txn}`, { msgtype: 'm.text', body: `from ${n}` });
        if (res.status === 200) {
          acknowledged.push((res.body as { event_id: string }).event_id);
          if (restored) sendsAfterRestore++;
        } else {
          failures.push(res);
          await sleep(100);
        }
      }
    };
    const reader = async (): Promise<void> => {
      while (!stop) {
        const res = await client('GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=5`);
        if (res.status !== 200) {
          failures.push(res);
          await sleep(100);
        }
      }
    };
    const load = Promise.all([sender(1), sender(2), sender(3), reader()]);

    await sleep(2_000);
    const beforeCut = acknowledged.length;
    proxy.cut();
    await sleep(5_000);
    const failedWhileDown = failures.length;
    restored = true;
    proxy.restore();
    // Resumes by itself: sends succeed again without anything done to the node.
    const until = Date.now() + 30_000;
    while (sendsAfterRestore < 10 && Date.now() < until) await sleep(200);
    stop = true;
    await load;

    console.log(
      `database outage: ${beforeCut} sends acknowledged before, ${failedWhileDown} failed requests while down, ` +
        `${proxy.refused} connections refused, ${sendsAfterRestore} sends after restore, ${acknowledged.length} acknowledged in all`,
    );
    assert.ok(beforeCut > 0, 'no send succeeded before the outage');
    assert.ok(failedWhileDown > 0, 'no request failed while the database was down');
    assert.ok(sendsAfterRestore >= 10, `only ${sendsAfterRestore} sends succeeded after the database came back`);
    const statuses = new Map<number, number>();
    for (const res of failures) {
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.equal(res.status, 503, `a failure answered ${res.status}: ${res.text}`);
      expectMatrixError(res, 503, 'M_UNKNOWN');
      assert.ok(res.headers.get('retry-after') !== null, 'no Retry-After on a 503');
      assert.doesNotMatch(res.text, /\bat .*\.ts:\d+/, 'a stack trace in a response');
    }
    console.log(`failure statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);

    // The process never went down.
    assert.equal(await Promise.race([node.exited.then(() => 'exited'), sleep(0).then(() => 'running')]), 'running');
    // Every acknowledged event is stored and served.
    for (const eventId of acknowledged) {
      const res = await client('GET', `/rooms/${enc(roomId)}/event/${enc(eventId)}`);
      expectSpecResponse(res, 'getOneRoomEvent');
    }
    assert.doesNotMatch(node.logs(), /uncaught|unhandled rejection|"msg":"unhandled error"/i);
  });
});
