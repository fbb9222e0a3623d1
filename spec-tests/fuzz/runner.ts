// The fuzz loop: which endpoints the node serves, then requests round-robin over them (each
// built from its own seed, broken one way), several in flight at once, every response
// judged. A failure is a 5xx, a 4xx whose body is neither a Matrix error nor what the spec
// declares for that status, a request that hangs, or the node process exiting.

import { specResponseErrors } from '../rig/openapi.ts';
import type { TestNode } from '../rig/nodes.ts';
import { loadEndpoints, routeKey, type FuzzEndpoint } from './catalogue.ts';
import { buildRequest, describe, type FuzzRequest } from './requests.ts';
import { Rng } from './rng.ts';
import { RequestTimeoutError, Sender, UnsendableRequestError, type FuzzResponse } from './send.ts';
import type { FuzzWorld } from './world.ts';

export interface FuzzFailure {
  readonly kind: 'server-error' | 'bad-error-body' | 'timeout' | 'connection' | 'node-exited';
  readonly request: FuzzRequest;
  readonly status: number | undefined;
  readonly detail: string;
  /** The node's error log line for it, when one was found. */
  readonly log: string | undefined;
}

export interface Coverage {
  /** Client-server + server-server endpoints in endpoints.json (operations). */
  readonly listed: readonly FuzzEndpoint[];
  readonly served: readonly FuzzEndpoint[];
  readonly notServed: readonly FuzzEndpoint[];
}

export interface FuzzReport {
  readonly seed: number;
  readonly requestsSent: number;
  /** Requests Node's own HTTP client refused to put on the wire (not sent, not counted above). */
  readonly unsendable: number;
  readonly durationMs: number;
  readonly statusCounts: ReadonlyMap<number, number>;
  readonly perOperation: ReadonlyMap<string, number>;
  readonly failures: readonly FuzzFailure[];
  readonly worldRebuilds: number;
}

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this long (requests in flight finish). */
  readonly durationMs: number;
  readonly maxRequests?: number;
  readonly concurrency?: number;
  readonly requestTimeoutMs?: number;
  /** Progress lines (every ~1000 requests). */
  readonly log?: (line: string) => void;
}

/** Requests that may log the fuzzing user out or take it out of its room. */
const DESTRUCTIVE = new Set([
  'client-server:logout',
  'client-server:logout_all',
  'client-server:deactivateAccount',
  'client-server:changePassword',
  'client-server:deleteDevice',
  'client-server:deleteDevices',
  'client-server:leaveRoom',
  'client-server:kick',
  'client-server:ban',
  'client-server:forgetRoom',
  'client-server:setRoomStateWithKey',
  'client-server:upgradeRoom',
  'client-server:setAdminLockUser',
  'client-server:setAdminSuspendUser',
  'client-server:redactEvent',
]);

// ---------------------------------------------------------------------------------------
// Which endpoints are served

/** The router's own "no such route" answers (src/http/app.ts), as opposed to a handler's 404. */
function isUnroutedResponse(res: FuzzResponse): boolean {
  const body = res.body as { errcode?: unknown; error?: unknown } | undefined;
  if (body?.errcode !== 'M_UNRECOGNIZED' || typeof body.error !== 'string') return false;
  return (res.status === 404 && body.error === 'Unrecognized request') || (res.status === 405 && body.error.startsWith('Method '));
}

/** Probes each listed endpoint once with a plausible request: served unless the router says no route. */
export async function probeCoverage(world: FuzzWorld, sender: Sender): Promise<Coverage> {
  const listed = loadEndpoints();
  const servedRoutes = new Map<string, boolean>();
  const rng = new Rng(1);
  const probes: Array<{ key: string; request: FuzzRequest }> = [];
  for (const endpoint of listed) {
    const key = routeKey(endpoint);
    if (probes.some((p) => p.key === key)) continue;
    probes.push({ key, request: buildValidRequest(endpoint, rng, world) });
  }
  const probeOne = async (probe: { key: string; request: FuzzRequest }): Promise<void> => {
    let served = true;
    try {
      served = !isUnroutedResponse(await sender.send(probe.request));
    } catch {
      served = true; // something other than the router's 404 happened
    }
    servedRoutes.set(probe.key, served);
  };
  const queue = [...probes];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let probe = queue.shift(); probe !== undefined; probe = queue.shift()) await probeOne(probe);
    }),
  );
  const served = listed.filter((e) => servedRoutes.get(routeKey(e)) === true);
  const notServed = listed.filter((e) => servedRoutes.get(routeKey(e)) !== true);
  return { listed, served, notServed };
}

/** A request with no mutation (the Rng is advanced until the builder picks "valid"). */
function buildValidRequest(endpoint: FuzzEndpoint, rng: Rng, world: FuzzWorld): FuzzRequest {
  for (let i = 0; i < 200; i++) {
    const req = buildRequest(endpoint, rng.fork(), world);
    if (req.mutation === 'valid') return req;
  }
  return buildRequest(endpoint, rng.fork(), world);
}

// ---------------------------------------------------------------------------------------
// Judging a response

const ERRCODE = /^M_[A-Z0-9_]+$/;

/** Why `res` is a failure for `req`, or undefined when it is an acceptable answer. */
export function judge(req: FuzzRequest, res: FuzzResponse): Pick<FuzzFailure, 'kind' | 'detail'> | undefined {
  const body = res.body as { errcode?: unknown; error?: unknown } | undefined;
  const isMatrixError = typeof body?.errcode === 'string' && ERRCODE.test(body.errcode) && typeof body.error === 'string';
  // 502/504 with a Matrix error: another server (named in the request) could not be reached
  // or answered nonsense, as Synapse reports it. Any other 5xx is Stoa's own failure.
  if (res.status >= 500 && !((res.status === 502 || res.status === 504) && isMatrixError)) {
    return { kind: 'server-error', detail: `${res.status} ${truncate(res.text)}` };
  }
  if (res.status < 400 || isMatrixError) return undefined;
  // Not a plain Matrix error: acceptable only when it is what the spec declares for this
  // operation and status (User-Interactive Authentication's 401, say).
  if (body !== undefined && !req.operation.startsWith('corpus:')) {
    try {
      if (specResponseErrors({ status: res.status, body }, req.operation).length === 0) return undefined;
    } catch {
      // the spec declares nothing for this status: fall through
    }
  }
  return { kind: 'bad-error-body', detail: `${res.status} body is not {errcode: "M_…", error: string}: ${truncate(res.text)}` };
}

function truncate(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

// ---------------------------------------------------------------------------------------
// The loop

class NodeWatch {
  exited = false;
  #cursor = 0;
  readonly #node: TestNode;

  constructor(node: TestNode) {
    this.#node = node;
    void node.exited.then(() => {
      this.exited = true;
    });
  }

  /** The node's latest error-level log line since the last call (pino level 50+). */
  latestError(): string | undefined {
    const text = this.#node.logs();
    const fresh = text.slice(this.#cursor);
    this.#cursor = text.length;
    const lines = fresh.split('\n').filter((line) => /"level":("error"|"fatal"|50|60)/.test(line));
    const last = lines.at(-1);
    return last === undefined ? undefined : truncate(last, 2000);
  }
}

/** Sends one request and judges it; the failure, if any. */
export async function sendAndJudge(sender: Sender, req: FuzzRequest, watch: NodeWatch): Promise<{ status: number | undefined; failure: FuzzFailure | undefined; sent: boolean }> {
  let res: FuzzResponse;
  try {
    res = await sender.send(req);
  } catch (error) {
    if (error instanceof UnsendableRequestError) return { status: undefined, failure: undefined, sent: false };
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (watch.exited) return { status: undefined, sent: true, failure: { kind: 'node-exited', request: req, status: undefined, detail: String(error), log: watch.latestError() } };
    const kind = error instanceof RequestTimeoutError ? 'timeout' : 'connection';
    return { status: undefined, sent: true, failure: { kind, request: req, status: undefined, detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error), log: undefined } };
  }
  const verdict = judge(req, res);
  const failure = verdict === undefined ? undefined : { ...verdict, request: req, status: res.status, log: res.status >= 500 ? watch.latestError() : undefined };
  return { status: res.status, failure, sent: true };
}

export { NodeWatch };

/** Runs `requests` (fixed, e.g. the regression corpus) and then generated requests until time is up. */
export async function runFuzz(world: FuzzWorld, endpoints: readonly FuzzEndpoint[], fixed: readonly (() => FuzzRequest)[], options: FuzzOptions): Promise<FuzzReport> {
  const sender = new Sender({ clientUrl: world.node.clientUrl, federationUrl: world.node.federationUrl, ca: world.node.caCertificate }, options.requestTimeoutMs ?? 30_000);
  const watch = new NodeWatch(world.node);
  const started = Date.now();
  const deadline = started + options.durationMs;
  const master = new Rng(options.seed);
  const statusCounts = new Map<number, number>();
  const perOperation = new Map<string, number>();
  const failures: FuzzFailure[] = [];
  let sent = 0;
  let unsendable = 0;
  let next = 0;
  let order: FuzzEndpoint[] = [];
  let healing: Promise<void> | undefined;
  let sinceHeal = 0;

  const heal = async (): Promise<void> => {
    healing ??= world
      .ensureHealthy()
      .catch((error: unknown) => {
        // Registering, logging in or creating a room failed: that is a failure of the node
        // too (the rig's requests are valid), not a reason to stop the run.
        const detail = `repairing the fuzz world failed: ${error instanceof Error ? error.message : String(error)}`;
        failures.push({ kind: 'server-error', request: { operation: 'world-repair', listener: 'client', method: '-', target: '-', headers: {}, body: undefined, mutation: '-' }, status: undefined, detail, log: watch.latestError() });
      })
      .finally(() => {
        healing = undefined;
      });
    await healing;
  };

  /** The next request to send, or undefined when the run is over. */
  const nextRequest = (): FuzzRequest | undefined => {
    if (watch.exited || Date.now() >= deadline) return undefined;
    if (options.maxRequests !== undefined && next >= options.maxRequests + fixed.length) return undefined;
    const index = next++;
    if (index < fixed.length) return fixed[index]?.();
    if (order.length === 0) {
      // A fresh shuffle of every endpoint per round: all are covered evenly.
      order = [...endpoints];
      for (let i = order.length - 1; i > 0; i--) {
        const j = master.int(i + 1);
        [order[i], order[j]] = [order[j] as FuzzEndpoint, order[i] as FuzzEndpoint];
      }
    }
    const endpoint = order.pop() as FuzzEndpoint;
    return buildRequest(endpoint, master.fork(), world);
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (healing !== undefined) await healing;
      const req = nextRequest();
      if (req === undefined) return;
      const result = await sendAndJudge(sender, req, watch);
      if (!result.sent) {
        unsendable++;
        continue;
      }
      sent++;
      perOperation.set(req.operation, (perOperation.get(req.operation) ?? 0) + 1);
      if (result.status !== undefined) statusCounts.set(result.status, (statusCounts.get(result.status) ?? 0) + 1);
      if (result.failure !== undefined) failures.push(result.failure);
      if (sent % 1000 === 0) options.log?.(`fuzz: ${sent} requests, ${failures.length} failures, ${Math.round((Date.now() - started) / 1000)} s`);
      sinceHeal++;
      if (DESTRUCTIVE.has(req.operation) || sinceHeal >= 200 || result.status === 401) {
        sinceHeal = 0;
        if (!watch.exited) await heal();
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, () => worker()));
  } finally {
    sender.close();
  }
  if (watch.exited) failures.push({ kind: 'node-exited', request: { operation: '-', listener: 'client', method: '-', target: '-', headers: {}, body: undefined, mutation: '-' }, status: undefined, detail: 'the node process exited during the run', log: watch.latestError() });
  return { seed: options.seed, requestsSent: sent, unsendable, durationMs: Date.now() - started, statusCounts, perOperation, failures, worldRebuilds: world.rebuilds };
}

// ---------------------------------------------------------------------------------------
// Reporting

/** A failure as a replayable description: method, target, headers, body excerpt. */
export function describeFailure(failure: FuzzFailure): string {
  const req = failure.request;
  const body = req.body === undefined ? '' : `\n    body (${req.body.length} bytes): ${describe(Buffer.from(req.body).toString('latin1'), 200)}`;
  const headers = Object.entries(req.headers)
    .filter(([name]) => name.toLowerCase() !== 'authorization')
    .map(([name, value]) => `${name}: ${describe(String(value), 80)}`)
    .join(', ');
  const auth = req.headers['authorization'] === undefined ? 'none' : describe(String(req.headers['authorization']).slice(0, 20), 40);
  return [
    `  [${failure.kind}] ${req.operation} (${req.mutation})`,
    `    ${req.listener} ${req.method} ${describe(req.target, 300)}`,
    `    auth: ${auth}${headers === '' ? '' : `; ${headers}`}${body}`,
    `    → ${failure.detail}`,
    ...(failure.log === undefined ? [] : [`    log: ${failure.log}`]),
  ].join('\n');
}

export function formatReport(report: FuzzReport, coverage: Coverage): string {
  const routes = (list: readonly FuzzEndpoint[]): number => new Set(list.map(routeKey)).size;
  const statuses = [...report.statusCounts.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
  const lines = [
    `fuzz (seed ${report.seed}): ${report.requestsSent} requests in ${(report.durationMs / 1000).toFixed(1)} s, ${report.failures.length} failures`,
    `  endpoints: ${coverage.served.length} of ${coverage.listed.length} client-server + server-server operations served (${routes(coverage.served)} of ${routes(coverage.listed)} routes)`,
    `  statuses: ${statuses}`,
    `  world rebuilds: ${report.worldRebuilds}; requests Node's client would not send: ${report.unsendable}`,
  ];
  const seen = new Set<string>();
  for (const failure of report.failures) {
    // One line per distinct (operation, kind, status, mutation family).
    const key = `${failure.request.operation} ${failure.kind} ${failure.status} ${failure.request.mutation.split(' ')[0]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(describeFailure(failure));
  }
  return lines.join('\n');
}
