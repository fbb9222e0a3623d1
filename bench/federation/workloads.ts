// The federation workloads, identical for both pairs (A and B are two servers; users of A
// send, a user of B long-polls /sync):
// - delivery: one message at a time on A; latency from the start of the send request on A
//   to the event in a parsed /sync response on B;
// - throughput: W concurrent senders on A over 10 rooms that B's user has joined; events
//   per second accepted on A and arrived at B;
// - join: a room on A whose state holds M members; a user of B joins it (make_join,
//   send_join, the whole state and auth chain checked on B), timed from the join request
//   until B reports every member of the room (Synapse returns from a join with a partial
//   state and fetches the rest in the background; Stoa returns with the whole state).

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { joinMember, MEMBER_PREFIX, registerMember } from '../lib/appservice.ts';
import { inParallel, registerMany, runTag } from '../lib/common.ts';
import { MatrixHttp, type Session, type SyncResponse } from '../send-sync/matrix-http.ts';
import { quantile, round } from '../send-sync/stats.ts';
import type { Pair } from './pairs.ts';

export const ROOMS = 10;
export const SENDERS = 10;

function enc(value: string): string {
  return encodeURIComponent(value);
}

export async function joinVia(http: MatrixHttp, session: Session, roomId: string, serverName: string): Promise<void> {
  await http.call('POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=${enc(serverName)}`, { token: session.accessToken, body: {} });
}

/**
 * Long-polls /sync on B with a filter for the given rooms' messages and records when each
 * tagged event (content `bench_run`, `bench_key`) first arrives.
 */
class Arrivals {
  readonly #http: MatrixHttp;
  readonly #session: Session;
  readonly #filter: string;
  readonly #runId: string;
  readonly #abort = new AbortController();
  readonly #arrived = new Map<string, number>();
  readonly #waiters = new Map<string, () => void>();
  #loop: Promise<void> | undefined;
  #error: unknown;
  limitedSyncs = 0;

  constructor(http: MatrixHttp, session: Session, filter: string, runId: string) {
    this.#http = http;
    this.#session = session;
    this.#filter = filter;
    this.#runId = runId;
  }

  get count(): number {
    return this.#arrived.size;
  }

  get error(): unknown {
    return this.#error;
  }

  at(key: string): number | undefined {
    return this.#arrived.get(key);
  }

  async start(): Promise<void> {
    // From "now": an initial sync, then long polls from its token.
    const initial = await this.#http.sync(this.#session, { filter: this.#filter, timeoutMs: 0 });
    this.#loop = this.#run(initial.next_batch).catch((error: unknown) => {
      if (!this.#abort.signal.aborted) this.#error = error;
      for (const wake of this.#waiters.values()) wake();
    });
  }

  async #run(from: string): Promise<void> {
    let since = from;
    while (!this.#abort.signal.aborted) {
      const res: SyncResponse = await this.#http.sync(this.#session, { filter: this.#filter, since, timeoutMs: 30_000 }, this.#abort.signal);
      const now = performance.now();
      since = res.next_batch;
      for (const room of Object.values(res.rooms?.join ?? {})) {
        if (room.timeline?.limited === true) this.limitedSyncs += 1;
        for (const event of room.timeline?.events ?? []) {
          const content = event.content ?? {};
          const key = content['bench_key'];
          if (content['bench_run'] !== this.#runId || typeof key !== 'string' || this.#arrived.has(key)) continue;
          this.#arrived.set(key, now);
          this.#waiters.get(key)?.();
        }
      }
    }
  }

  /** Resolves with the arrival time of `key`, or undefined after `timeoutMs`. */
  async waitFor(key: string, timeoutMs: number): Promise<number | undefined> {
    const known = this.#arrived.get(key);
    if (known !== undefined || this.#error !== undefined) return known;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#waiters.set(key, resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.#waiters.delete(key);
    return this.#arrived.get(key);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }
}

export interface Fixture {
  readonly pair: Pair;
  readonly httpA: MatrixHttp;
  readonly httpB: MatrixHttp;
  readonly syncB: MatrixHttp;
  readonly senders: readonly Session[];
  readonly rooms: readonly string[];
  readonly receiver: Session;
  /** Only rooms[0]'s messages. */
  readonly deliveryFilter: string;
  /** All ten rooms' messages. */
  readonly throughputFilter: string;
}

/** 10 senders on A in 10 rooms of A; a receiver on B joined to all of them over federation. */
export async function setUpFixture(pair: Pair): Promise<Fixture> {
  const httpA = new MatrixHttp(pair.a.clientUrl, 128);
  const httpB = new MatrixHttp(pair.b.clientUrl, 8);
  const syncB = new MatrixHttp(pair.b.clientUrl, 4);
  const tag = runTag();
  const senders = await registerMany(httpA, pair.a.registrationSharedSecret, `fed_${tag}_sender`, SENDERS, 4);
  const [receiver] = await registerMany(httpB, pair.b.registrationSharedSecret, `fed_${tag}_receiver`, 1);
  const [owner, ...others] = senders;
  if (owner === undefined || receiver === undefined) throw new Error('no users');
  const rooms: string[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const roomId = await httpA.createRoom(owner, { preset: 'public_chat', name: `federation bench ${r}` });
    await Promise.all(others.map((member) => httpA.join(member, roomId)));
    await joinVia(httpB, receiver, roomId, pair.a.serverName);
    rooms.push(roomId);
  }
  const filterFor = (roomIds: readonly string[]): Promise<string> =>
    httpB.uploadFilter(receiver, {
      presence: { not_types: ['*'] },
      account_data: { not_types: ['*'] },
      room: {
        rooms: roomIds,
        timeline: { limit: 1000, types: ['m.room.message'] },
        state: { lazy_load_members: true, types: [] },
        ephemeral: { not_types: ['*'] },
        account_data: { not_types: ['*'] },
      },
    });
  return { pair, httpA, httpB, syncB, senders, rooms, receiver, deliveryFilter: await filterFor(rooms.slice(0, 1)), throughputFilter: await filterFor(rooms) };
}

export async function tearDownFixture(fixture: Fixture): Promise<void> {
  await Promise.all([fixture.httpA.close(), fixture.httpB.close(), fixture.syncB.close()]);
}

function tagged(runId: string, key: string, body: string): Record<string, unknown> {
  return { msgtype: 'm.text', body, bench_run: runId, bench_key: key };
}

export interface DeliveryResult {
  readonly count: number;
  readonly delivered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** From the send's response on A to the event in B's /sync. */
  readonly afterSendP50Ms: number;
  readonly sendMedianMs: number;
}

/** How long one event may take to reach B before it counts as lost. */
const EVENT_TIMEOUT_MS = 30_000;

/**
 * `count` messages from A, one at a time: each is sent once the previous one reached B (or
 * timed out), so the figure is the latency of an idle link, not of a queue.
 */
export async function federationDelivery(fixture: Fixture, count: number, warmUp = 0): Promise<DeliveryResult> {
  const [sender] = fixture.senders;
  const [room] = fixture.rooms;
  if (sender === undefined || room === undefined) throw new Error('empty fixture');
  const runId = randomBytes(6).toString('hex');
  const arrivals = new Arrivals(fixture.syncB, fixture.receiver, fixture.deliveryFilter, runId);
  await arrivals.start();
  const latencies: number[] = [];
  const afterSend: number[] = [];
  const sendLatencies: number[] = [];
  try {
    for (let i = -warmUp; i < count; i++) {
      const key = String(i);
      const t0 = performance.now();
      await fixture.httpA.send(sender, room, tagged(runId, key, `federation delivery ${i}`));
      const t1 = performance.now();
      const at = await arrivals.waitFor(key, EVENT_TIMEOUT_MS);
      if (arrivals.error !== undefined) throw arrivals.error;
      if (i < 0 || at === undefined) continue;
      latencies.push(at - t0);
      afterSend.push(Math.max(0, at - t1));
      sendLatencies.push(t1 - t0);
    }
  } finally {
    await arrivals.stop();
  }
  return {
    count,
    delivered: latencies.length,
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    maxMs: round(quantile(latencies, 1)),
    afterSendP50Ms: round(quantile(afterSend, 0.5)),
    sendMedianMs: round(quantile(sendLatencies, 0.5)),
  };
}

export interface ThroughputResult {
  readonly workers: number;
  readonly sent: number;
  readonly delivered: number;
  /** Sends accepted by A per second. */
  readonly sentPerSecond: number;
  /** Events arrived at B per second, from the first send to the last arrival. */
  readonly deliveredPerSecond: number;
  /** From the start of a send on A to the event in B's /sync. */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Time from the end of sending to the last arrival. */
  readonly drainMs: number;
  readonly limitedSyncs: number;
  readonly sendErrors: number;
}

/** How long B may take to catch up after the senders stopped. */
const DRAIN_MS = 60_000;

export async function federationThroughput(fixture: Fixture, workers: number, durationMs: number): Promise<ThroughputResult> {
  const runId = randomBytes(6).toString('hex');
  const arrivals = new Arrivals(fixture.syncB, fixture.receiver, fixture.throughputFilter, runId);
  await arrivals.start();
  const started = new Map<string, number>();
  let sendErrors = 0;
  let firstError: unknown;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  let sendsEnded = t0;
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        // As in send-sync: room w mod 10, and with 100 workers one sender per (user, room).
        const room = fixture.rooms[w % ROOMS];
        const sender = fixture.senders[(w + Math.floor(w / ROOMS)) % SENDERS];
        if (room === undefined || sender === undefined) throw new Error('empty fixture');
        for (let i = 0; performance.now() < deadline; i++) {
          const key = `${w}.${i}`;
          const at = performance.now();
          try {
            await fixture.httpA.send(sender, room, tagged(runId, key, `federation worker ${w} message ${i}`));
            started.set(key, at);
          } catch (error) {
            sendErrors += 1;
            firstError ??= error;
            if (sendErrors > 100) throw firstError;
          }
        }
      }),
    );
    sendsEnded = performance.now();
    const drainUntil = sendsEnded + DRAIN_MS;
    while (arrivals.count < started.size && performance.now() < drainUntil && arrivals.error === undefined) await sleep(10);
    if (arrivals.error !== undefined) throw arrivals.error;
  } finally {
    await arrivals.stop();
  }
  const latencies: number[] = [];
  let lastArrival = t0;
  for (const [key, at] of started) {
    const arrived = arrivals.at(key);
    if (arrived === undefined) continue;
    latencies.push(arrived - at);
    if (arrived > lastArrival) lastArrival = arrived;
  }
  const sentSeconds = (sendsEnded - t0) / 1000;
  const deliveredSeconds = (lastArrival - t0) / 1000;
  return {
    workers,
    sent: started.size,
    delivered: latencies.length,
    sentPerSecond: round(started.size / sentSeconds, 1),
    deliveredPerSecond: round(deliveredSeconds > 0 ? latencies.length / deliveredSeconds : Number.NaN, 1),
    latencyP50Ms: round(quantile(latencies, 0.5)),
    latencyP99Ms: round(quantile(latencies, 0.99)),
    drainMs: round(Math.max(0, lastArrival - sendsEnded), 0),
    limitedSyncs: arrivals.limitedSyncs,
    sendErrors,
  };
}

export interface JoinResult {
  readonly members: number;
  /** Time to build the room on A (registrations and joins): set-up, not the measurement. */
  readonly setUpSeconds: number;
  /** From the join request on B to its response. */
  readonly joinReturnedMs: number;
  /** From the join request on B until B's /joined_members lists every member: the headline. */
  readonly joinMs: number;
  /** Joined members B reported right after the join returned. */
  readonly membersSeenAtReturn: number;
  /** Whether B ended up reporting every member (within the time allowed). */
  readonly complete: boolean;
}

/** How long B may take to hold the whole state after the join returned. */
const FULL_STATE_TIMEOUT_MS = 30 * 60_000;

/**
 * A room on A with `members` joined members (its creator included), then one user of B
 * joins it over federation. The join is timed from the request to its response; right
 * after, B must report every member (the state came in whole, not as a partial state).
 */
export async function largeRoomJoin(pair: Pair, members: number, progress: (message: string) => void): Promise<JoinResult> {
  const httpA = new MatrixHttp(pair.a.clientUrl, 32);
  // Joining a large room can take minutes on a slow server.
  const httpB = new MatrixHttp(pair.b.clientUrl, 4, 30 * 60_000);
  try {
    const setUpStart = performance.now();
    const tag = runTag();
    const [owner] = await registerMany(httpA, pair.a.registrationSharedSecret, `big_${tag}_owner`, 1);
    const [joiner] = await registerMany(httpB, pair.b.registrationSharedSecret, `big_${tag}_joiner`, 1);
    if (owner === undefined || joiner === undefined) throw new Error('no users');
    const roomId = await httpA.createRoom(owner, { preset: 'public_chat', name: 'federation bench: large room' });
    let done = 0;
    let lastReport = performance.now();
    // Registration (through the appservice: no password, no device) and join per member,
    // several at a time; joins to one room are serialised by both servers anyway, the
    // parallelism hides the round trips.
    await inParallel(members - 1, 16, async (i) => {
      const member = await registerMember(httpA, pair.appservice, `${MEMBER_PREFIX}${tag}_${i}`);
      await joinMember(httpA, pair.appservice, member, roomId);
      done += 1;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`${pair.label}: ${done + 1}/${members} members in the large room`);
      }
    });
    const setUpSeconds = round((performance.now() - setUpStart) / 1000, 1);
    progress(`${pair.label}: large room of ${members} members built in ${setUpSeconds} s; joining from B`);
    const expected = members + 1;
    const membersOnB = async (): Promise<number> => {
      const joined = await httpB.call<{ joined?: Record<string, unknown> }>('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, { token: joiner.accessToken });
      return Object.keys(joined.joined ?? {}).length;
    };
    const t0 = performance.now();
    await joinVia(httpB, joiner, roomId, pair.a.serverName);
    const joinReturnedMs = round(performance.now() - t0, 0);
    let seen = await membersOnB();
    const membersSeenAtReturn = seen;
    while (seen < expected && performance.now() - t0 < FULL_STATE_TIMEOUT_MS) {
      await sleep(20);
      seen = await membersOnB();
    }
    const joinMs = round(performance.now() - t0, 0);
    return { members, setUpSeconds, joinReturnedMs, joinMs, membersSeenAtReturn, complete: seen === expected };
  } finally {
    await Promise.all([httpA.close(), httpB.close()]);
  }
}
