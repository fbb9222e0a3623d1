// Many idle long-polls (issue 12 item 3): N concurrent `GET /sync?since=…&timeout=…` on one
// Stoa process, held open by raw sockets (one request each, so the client side costs a socket
// and nothing more). Reports the server's resident memory per idle connection (target under
// 20 KB), then sends one message into a room every connection's user is in and times how
// long until every long-poll has answered (the fan-out a busy room causes).
//
//   node bench/connections/run.ts [--connections 10000] [--users 100] [--postgres URL]
//
// The server and this process each need a file descriptor per connection (`ulimit -n`).

import { connect, type Socket } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { heapTotals } from './heap-summary.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNodes, type TestNode } from '../../spec-tests/rig/nodes.ts';
import { registerUser, type RegisteredUser } from '../../spec-tests/rig/users.ts';
import { request } from '../../spec-tests/rig/http.ts';

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at === -1 ? Number.NaN : Number(args[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
const CONNECTIONS = option('connections', 10_000);
const USERS = Math.min(option('users', 100), CONNECTIONS);
const postgresAt = args.indexOf('--postgres');
const postgresUrl = postgresAt === -1 ? undefined : args[postgresAt + 1];
if (postgresUrl !== undefined) process.env['STOA_TEST_POSTGRES_URL'] = postgresUrl;
const HOLD_MS = 120_000;
// --heap-snapshot DIR: the server writes a heap snapshot there once every long-poll is
// parked (read it with bench/connections/heap-summary.ts).
const snapshotAt = args.indexOf('--heap-snapshot');
const snapshotDir = snapshotAt === -1 ? undefined : args[snapshotAt + 1];
if (snapshotDir !== undefined) {
  process.env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}`.trim();
}

function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]);
}

async function ok(node: TestNode, user: RegisteredUser, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await request(`${node.clientUrl}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${user.accessToken}` },
    ...(body === undefined ? {} : { body }),
  });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body as Record<string, unknown>;
}

interface Poll {
  readonly socket: Socket;
  readonly answered: Promise<number>;
  /** The response's status code, or the socket error's code. */
  outcome: string;
}

/** One long-poll on its own socket; resolves with the time its response began to arrive. */
function openPoll(port: number, user: RegisteredUser, since: string): Promise<Poll> {
  return new Promise((resolveOpen, rejectOpen) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let resolveAnswer!: (at: number) => void;
    const answered = new Promise<number>((resolve) => (resolveAnswer = resolve));
    const poll: Poll = { socket, answered, outcome: 'pending' };
    socket.once('data', (chunk: Buffer) => {
      poll.outcome = /^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1', 0, 32))?.[1] ?? 'garbled';
      resolveAnswer(performance.now());
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (poll.outcome === 'pending') poll.outcome = error.code ?? 'error';
      resolveAnswer(Number.NaN);
    });
    socket.once('close', () => {
      if (poll.outcome === 'pending') poll.outcome = 'closed';
      resolveAnswer(Number.NaN);
    });
    socket.once('connect', () => {
      socket.write(
        `GET /_matrix/client/v3/sync?since=${encodeURIComponent(since)}&timeout=${HOLD_MS} HTTP/1.1\r\n` +
          `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${user.accessToken}\r\n\r\n`,
      );
      resolveOpen(poll);
    });
    socket.once('error', rejectOpen);
  });
}

/** Has the server write a heap snapshot (synchronously: it answers again once the file is complete). */
async function heapSnapshot(node: TestNode, user: RegisteredUser, since: string): Promise<void> {
  process.kill(node.pid, 'SIGUSR2');
  await sleep(1000);
  await ok(node, user, 'GET', `/sync?timeout=0&since=${encodeURIComponent(since)}`);
}

/** JS heap held per parked connection: the last two snapshots of the server, after their full GCs. */
function heapGrowth(dir: string, pid: number): number {
  const files = readdirSync(dir).filter((f) => f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot')).sort();
  const [before, after] = files.slice(-2).map((f) => heapTotals(join(dir, f)).bytes);
  return before === undefined || after === undefined ? Number.NaN : Math.round((after - before) / CONNECTIONS);
}

function countOutcomes(list: readonly Poll[]): Record<string, number> {
  return Object.fromEntries([...Map.groupBy(list, (p) => p.outcome)].map(([outcome, group]) => [outcome, group.length]));
}

const [node] = (await startNodes(1, postgresUrl === undefined ? {} : { engine: 'postgres' })) as [TestNode];
try {
  const port = Number(new URL(node.clientUrl).port);
  const users: RegisteredUser[] = [];
  for (let i = 0; i < USERS; i += 10) {
    users.push(...(await Promise.all(Array.from({ length: Math.min(10, USERS - i) }, (_, j) => registerUser(node, `idle${i + j}`)))));
  }
  const owner = users[0]!;
  const roomId = String((await ok(node, owner, 'POST', '/createRoom', { preset: 'public_chat' }))['room_id']);
  for (const user of users.slice(1)) await ok(node, user, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  const since = new Map<string, string>();
  for (const user of users) since.set(user.userId, String((await ok(node, user, 'GET', '/sync?timeout=0'))['next_batch']));
  // Each initial sync brought its user online, which is news to the users before it: catch up
  // so that every long-poll below waits (none answers at once with presence).
  for (const user of users) {
    const token = encodeURIComponent(since.get(user.userId)!);
    since.set(user.userId, String((await ok(node, user, 'GET', `/sync?timeout=0&since=${token}`))['next_batch']));
  }

  await sleep(3000);
  const idleKb = rssKb(node.pid);
  if (snapshotDir !== undefined) await heapSnapshot(node, owner, since.get(owner.userId)!);
  const polls: Poll[] = [];
  const openStart = performance.now();
  for (let i = 0; i < CONNECTIONS; i += 200) {
    const batch = Array.from({ length: Math.min(200, CONNECTIONS - i) }, (_, j) => {
      const user = users[(i + j) % users.length]!;
      return openPoll(port, user, since.get(user.userId)!);
    });
    polls.push(...(await Promise.all(batch)));
  }
  const openMs = performance.now() - openStart;
  // Let the server parse every request and park its waiter.
  await sleep(8000);
  const heldKb = rssKb(node.pid);
  if (snapshotDir !== undefined) await heapSnapshot(node, owner, since.get(owner.userId)!);
  // Anything answered already (an error, a rate limit) is not a waiter the message wakes.
  const waiting = polls.map((p) => p.outcome === 'pending');
  const outcomesBefore = countOutcomes(polls.filter((_, i) => !waiting[i]));

  const sentAt = performance.now();
  await ok(node, owner, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/fanout`, { msgtype: 'm.text', body: 'wake up' });
  const answeredAt = await Promise.all(polls.map((p) => p.answered));
  const woken = answeredAt.filter((t, i) => waiting[i] === true && Number.isFinite(t)).map((t) => t - sentAt).sort((a, b) => a - b);
  const quantile = (q: number) => woken[Math.min(woken.length - 1, Math.floor(q * woken.length))] ?? Number.NaN;
  for (const poll of polls) poll.socket.destroy();

  const result = {
    benchmark: 'connections',
    date: new Date().toISOString(),
    engine: postgresUrl === undefined ? 'pglite' : 'postgres',
    loadavg: (await import('node:os')).loadavg(),
    connections: CONNECTIONS,
    users: USERS,
    openSeconds: Math.round(openMs / 10) / 100,
    idleRssMb: Math.round(idleKb / 102.4) / 10,
    heldRssMb: Math.round(heldKb / 102.4) / 10,
    bytesPerConnection: Math.round(((heldKb - idleKb) * 1024) / CONNECTIONS),
    ...(snapshotDir === undefined ? {} : { heapBytesPerConnection: heapGrowth(snapshotDir, node.pid) }),
    answeredBeforeTheMessage: outcomesBefore,
    answeredAfterTheMessage: countOutcomes(polls.filter((_, i) => waiting[i] === true)),
    woken: woken.length,
    wakeP50Ms: Math.round(quantile(0.5)),
    wakeP99Ms: Math.round(quantile(0.99)),
    wakeMaxMs: Math.round(woken[woken.length - 1] ?? Number.NaN),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await node.stop();
}
