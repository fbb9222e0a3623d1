// The workloads, identical for every server:
// - sequential: one user sends N messages into one room, each after the previous returned;
// - concurrent: W senders, each a loop of sends for a fixed time, spread over 10 rooms so
//   that no two senders share a (user, room) pair;
// - delivery: a second user long-polls /sync with a filter while a sender sends at a fixed
//   rate (open loop: the schedule does not wait for responses); latency is from the start
//   of the send request to the moment the event is in a parsed /sync response.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { MatrixHttp, type Session } from './matrix-http.ts';
import { quantile, round } from './stats.ts';

export const ROOMS = 10;
export const SENDERS = 10;

export interface Fixture {
  readonly http: MatrixHttp;
  readonly syncHttp: MatrixHttp;
  readonly senders: readonly Session[];
  readonly rooms: readonly string[];
  readonly receiver: Session;
  readonly deliveryRoom: string;
  readonly receiverFilter: string;
}

/** Registers 10 senders and a receiver, creates 10 shared rooms and one delivery room. */
export async function setUpFixture(clientUrl: string, sharedSecret: string): Promise<Fixture> {
  const http = new MatrixHttp(clientUrl, 128);
  const syncHttp = new MatrixHttp(clientUrl, 4);
  const password = randomBytes(12).toString('hex');
  const tag = randomBytes(3).toString('hex');
  const senders: Session[] = [];
  for (let i = 0; i < SENDERS; i++) senders.push(await http.registerWithSharedSecret(sharedSecret, `bench_${tag}_sender${i}`, password));
  const receiver = await http.registerWithSharedSecret(sharedSecret, `bench_${tag}_receiver`, password);
  const [owner, ...others] = senders;
  if (owner === undefined) throw new Error('no senders');

  const rooms: string[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const roomId = await http.createRoom(owner, { preset: 'public_chat', name: `bench room ${r}` });
    for (const member of others) await http.join(member, roomId);
    rooms.push(roomId);
  }
  const deliveryRoom = await http.createRoom(owner, { preset: 'public_chat', name: 'bench delivery' });
  await http.join(receiver, deliveryRoom);

  // What a lean client asks for: the one room's messages, nothing else, and enough of a
  // timeline limit that a burst is never cut short (limited) between two polls.
  const receiverFilter = await http.uploadFilter(receiver, {
    presence: { not_types: ['*'] },
    account_data: { not_types: ['*'] },
    room: {
      rooms: [deliveryRoom],
      timeline: { limit: 1000, types: ['m.room.message'] },
      state: { lazy_load_members: true, types: [] },
      ephemeral: { not_types: ['*'] },
      account_data: { not_types: ['*'] },
    },
  });
  return { http, syncHttp, senders, rooms, receiver, deliveryRoom, receiverFilter };
}

export async function tearDownFixture(fixture: Fixture): Promise<void> {
  await fixture.http.close();
  await fixture.syncHttp.close();
}

function message(body: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { msgtype: 'm.text', body, ...extra };
}

/** A few sends to open connections and warm caches and JITs before anything is timed. */
export async function warmUp(fixture: Fixture, count = 30): Promise<void> {
  const [sender] = fixture.senders;
  const [room] = fixture.rooms;
  if (sender === undefined || room === undefined) throw new Error('empty fixture');
  for (let i = 0; i < count; i++) await fixture.http.send(sender, room, message(`warm-up ${i}`));
}

export interface SequentialResult {
  readonly count: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly perSecond: number;
}

export async function sequentialSends(fixture: Fixture, count: number): Promise<SequentialResult> {
  const [sender] = fixture.senders;
  const [room] = fixture.rooms;
  if (sender === undefined || room === undefined) throw new Error('empty fixture');
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fixture.http.send(sender, room, message(`sequential ${i}`));
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  return { count, medianMs: round(quantile(latencies, 0.5)), p99Ms: round(quantile(latencies, 0.99)), perSecond: round(count / seconds, 1) };
}

export interface ConcurrentResult {
  readonly workers: number;
  readonly events: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export async function concurrentSends(fixture: Fixture, workers: number, durationMs: number): Promise<ConcurrentResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      // Room w mod 10; the user shifts by one every 10 workers, so with 100 workers every
      // (user, room) pair has exactly one sender.
      const room = fixture.rooms[w % ROOMS];
      const sender = fixture.senders[(w + Math.floor(w / ROOMS)) % SENDERS];
      if (room === undefined || sender === undefined) throw new Error('empty fixture');
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          await fixture.http.send(sender, room, message(`worker ${w} message ${i}`));
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors += 1;
          firstError ??= error;
          if (errors > 100) throw firstError;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (latencies.length === 0 && firstError !== undefined) throw firstError;
  return {
    workers,
    events: latencies.length,
    seconds: round(seconds),
    perSecond: round(latencies.length / seconds, 1),
    medianMs: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    errors,
  };
}

export interface DeliveryResult {
  readonly targetRate: number;
  readonly achievedRate: number;
  readonly sent: number;
  readonly delivered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** From the send's response to the event in /sync: the fan-out alone, without queueing in the send path. */
  readonly afterSendP50Ms: number;
  readonly afterSendP99Ms: number;
  readonly sendMedianMs: number;
  /** /sync responses whose timeline said `limited`: events may have been skipped. */
  readonly limitedSyncs: number;
  readonly sendErrors: number;
}

/**
 * Outstanding sends allowed before the schedule waits, so that a server slower than the
 * rate is not buried (at 200/s and 25 ms a healthy server has about 5 in flight); the
 * schedule ends at its deadline, and what it could not send shows as a lower achieved rate.
 */
const MAX_IN_FLIGHT = 64;
/** How long to wait for stragglers after the last send returned. */
const DRAIN_MS = 10_000;

export async function deliveryLatency(fixture: Fixture, rate: number, durationMs: number): Promise<DeliveryResult> {
  const [sender] = fixture.senders;
  if (sender === undefined) throw new Error('empty fixture');
  const runId = randomBytes(6).toString('hex');
  const total = Math.round((rate * durationMs) / 1000);
  const sendStart = new Array<number | undefined>(total);
  const sendDone = new Array<number | undefined>(total);
  const arrival = new Array<number | undefined>(total);
  const sendLatencies: number[] = [];
  let delivered = 0;
  let limitedSyncs = 0;
  let sendErrors = 0;

  // The receiver starts from "now": an initial sync, then long-polls from its token.
  const initial = await fixture.syncHttp.sync(fixture.receiver, { filter: fixture.receiverFilter, timeoutMs: 0 });
  const abort = new AbortController();
  let syncError: unknown;
  const syncLoop = (async () => {
    let since = initial.next_batch;
    while (!abort.signal.aborted) {
      const res = await fixture.syncHttp.sync(fixture.receiver, { filter: fixture.receiverFilter, since, timeoutMs: 30_000 }, abort.signal);
      const now = performance.now();
      since = res.next_batch;
      const timeline = res.rooms?.join?.[fixture.deliveryRoom]?.timeline;
      if (timeline?.limited === true) limitedSyncs += 1;
      for (const event of timeline?.events ?? []) {
        const content = event.content ?? {};
        const seq = content['bench_seq'];
        if (content['bench_run'] !== runId || typeof seq !== 'number' || seq < 0 || seq >= total) continue;
        if (arrival[seq] === undefined) {
          arrival[seq] = now;
          delivered += 1;
        }
      }
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) syncError = error;
  });

  const interval = 1000 / rate;
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  let lastDispatch = t0;
  let dispatched = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const started = performance.now();
    if (started > deadline + interval) break;
    dispatched += 1;
    lastDispatch = started;
    sendStart[i] = started;
    const send = fixture.http
      .send(sender, fixture.deliveryRoom, message(`delivery ${i}`, { bench_run: runId, bench_seq: i }))
      .then(
        () => {
          const done = performance.now();
          sendDone[i] = done;
          sendLatencies.push(done - started);
        },
        () => {
          sendErrors += 1;
        },
      )
      .finally(() => inFlight.delete(send));
    inFlight.add(send);
  }
  await Promise.all(inFlight);
  const drainUntil = performance.now() + DRAIN_MS;
  while (delivered < dispatched - sendErrors && performance.now() < drainUntil && syncError === undefined) await sleep(5);
  abort.abort();
  await syncLoop;
  if (syncError !== undefined) throw syncError;

  const latencies: number[] = [];
  const afterSend: number[] = [];
  for (let i = 0; i < dispatched; i++) {
    const at = arrival[i];
    const start = sendStart[i];
    const done = sendDone[i];
    if (at !== undefined && start !== undefined) latencies.push(at - start);
    // An event can reach /sync before its send response does: that counts as 0.
    if (at !== undefined && done !== undefined) afterSend.push(Math.max(0, at - done));
  }
  const achievedSeconds = (lastDispatch - t0) / 1000;
  return {
    targetRate: rate,
    achievedRate: round(achievedSeconds > 0 ? (dispatched - 1) / achievedSeconds : Number.NaN, 1),
    sent: dispatched,
    delivered,
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    maxMs: round(quantile(latencies, 1)),
    afterSendP50Ms: round(quantile(afterSend, 0.5)),
    afterSendP99Ms: round(quantile(afterSend, 0.99)),
    sendMedianMs: round(quantile(sendLatencies, 0.5)),
    limitedSyncs,
    sendErrors,
  };
}
