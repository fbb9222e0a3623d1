// The operator's metrics beyond HTTP (issue 12 item 4): events persisted, /sync long-polls
// waiting, the federation queue per destination, state-resolution time, the database pool
// and the application-service queues. They go on the registry the metrics listener serves
// (HttpMetrics.registry). The components are seen through the small structural views below,
// so this module depends on none of them; main.ts hands them in. Values that live elsewhere
// (queue depths, the pool) are read at scrape time by collect() callbacks, never pushed.

import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import type { PoolStats } from '../storage/database.ts';
import type { Endpoint } from './define-endpoint.ts';

/** What the roomserver's output announces, as far as metrics care. */
export interface PersistedEventSource {
  onNewEvent(listener: (event: { readonly origin: string; readonly writtenElsewhere?: boolean }) => void): () => void;
}

export interface FederationQueueSource {
  health(): Promise<ReadonlyArray<{ readonly destination: string; readonly queued: number; readonly failureCount: number }>>;
}

export interface AppServiceQueueSource {
  /** Rows waiting to be pushed, per application service ID. */
  pendingCounts(): Promise<ReadonlyArray<{ readonly appservice: string; readonly queued: number }>>;
}

export interface DatabasePoolSource {
  readonly engine: 'pglite' | 'postgres';
  poolStats?(): PoolStats;
}

export interface AppMetricsSources {
  /** Events whose origin is this server count as local. */
  readonly serverName: string;
  readonly roomserver: PersistedEventSource;
  readonly db: DatabasePoolSource;
  /** Absent when federation is off: the queue families are then registered but empty. */
  readonly federationSender?: FederationQueueSource;
  readonly appServices?: AppServiceQueueSource;
}

export type LongPollKind = 'sync' | 'sliding_sync';

export interface AppMetrics {
  /** Adds every collector to `registry` (the one the metrics listener serves). */
  register(registry: Registry): void;
  /** Feed for `stoa_state_resolution_seconds`. */
  observeStateResolution(seconds: number): void;
  /** Counts the long-polls of `kind` while `work` runs. */
  longPoll<T>(kind: LongPollKind, work: () => Promise<T>): Promise<T>;
  /** Stops listening to the roomserver. */
  close(): void;
}

/**
 * The families createAppMetrics registers (besides metrics.ts's HTTP ones and Node's process
 * metrics). The dashboard test checks its queries against what the registry really holds.
 */
export const APP_METRIC_NAMES = [
  'stoa_events_persisted_total',
  'stoa_sync_waiters',
  'stoa_federation_queue_depth',
  'stoa_federation_destination_failures',
  'stoa_state_resolution_seconds',
  'stoa_db_pool_connections',
  'stoa_appservice_queue_depth',
] as const;

/**
 * Creates the collectors and starts counting; `register` puts them on the listener's
 * registry once startHttp has made it (the sync endpoints are wrapped before that).
 */
export function createAppMetrics(sources: AppMetricsSources): AppMetrics {
  const persisted = new Counter({
    name: 'stoa_events_persisted_total',
    help: 'Events that entered a room timeline, by origin (local: sent by this server; federation: received from another)',
    labelNames: ['origin'] as const,
    registers: [],
  });
  // Both label values exist from the start, so rate() sees the first event.
  persisted.inc({ origin: 'local' }, 0);
  persisted.inc({ origin: 'federation' }, 0);
  const unsubscribe = sources.roomserver.onNewEvent((event) => {
    // Each process counts what it persisted.
    if (event.writtenElsewhere === true) return;
    persisted.inc({ origin: event.origin === sources.serverName ? 'local' : 'federation' });
  });

  const waiters = new Gauge({
    name: 'stoa_sync_waiters',
    help: 'Long-polling sync requests (timeout > 0) in progress, by kind (sync: /sync; sliding_sync: MSC4186)',
    labelNames: ['kind'] as const,
    registers: [],
  });
  waiters.set({ kind: 'sync' }, 0);
  waiters.set({ kind: 'sliding_sync' }, 0);

  // One health() read per scrape serves both federation gauges: whichever is collected
  // first starts it, the other awaits the same read. prom-client awaits collect() before
  // serialising a family, so a failed read fails the scrape rather than showing stale values.
  const sender = sources.federationSender;
  let reading: Promise<void> | undefined;
  const readQueues = (): Promise<void> =>
    sender === undefined
      ? Promise.resolve()
      : (reading ??= sender
          .health()
          .then((destinations) => {
            // Reset first: a destination that drained must disappear, not keep its last value.
            queueDepth.reset();
            failures.reset();
            for (const d of destinations) {
              if (d.queued === 0 && d.failureCount === 0) continue;
              queueDepth.set({ destination: d.destination }, d.queued);
              failures.set({ destination: d.destination }, d.failureCount);
            }
          })
          .finally(() => {
            reading = undefined;
          }));
  const queueDepth = new Gauge({
    name: 'stoa_federation_queue_depth',
    help: 'Events and EDUs queued for a destination server (destinations with nothing queued and no failures are left out)',
    labelNames: ['destination'] as const,
    registers: [],
    collect: readQueues,
  });
  const failures = new Gauge({
    name: 'stoa_federation_destination_failures',
    help: 'Consecutive failed transactions to a destination server (0 after a success; destinations with none are left out)',
    labelNames: ['destination'] as const,
    registers: [],
    collect: readQueues,
  });

  const stateResolution = new Histogram({
    name: 'stoa_state_resolution_seconds',
    help: 'Time to resolve state between forks of a room (state resolution v2 runs with their auth chains loaded)',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });

  const pool = new Gauge({
    name: 'stoa_db_pool_connections',
    help: 'Database connections by state (total: open; idle: open and unused; waiting: queries queued for one). PGlite has one connection',
    labelNames: ['state'] as const,
    registers: [],
    collect() {
      const stats = sources.db.poolStats?.() ?? { total: 1, idle: 0, waiting: 0 };
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  const appServiceQueue = new Gauge({
    name: 'stoa_appservice_queue_depth',
    help: 'Events and EDUs waiting to be pushed to an application service, by its registration ID',
    labelNames: ['appservice'] as const,
    registers: [],
    async collect() {
      const counts = (await sources.appServices?.pendingCounts()) ?? [];
      this.reset();
      for (const { appservice, queued } of counts) this.set({ appservice }, queued);
    },
  });

  const all: Metric[] = [persisted, waiters, queueDepth, failures, stateResolution, pool, appServiceQueue];
  return {
    register(registry) {
      for (const metric of all) registry.registerMetric(metric);
    },
    observeStateResolution(seconds) {
      stateResolution.observe(seconds);
    },
    async longPoll(kind, work) {
      waiters.inc({ kind });
      try {
        return await work();
      } finally {
        waiters.dec({ kind });
      }
    },
    close: unsubscribe,
  };
}

/**
 * Wraps the handlers of the sync endpoints (by `kindOf`) so that requests with a timeout
 * count in `stoa_sync_waiters` while they run. A request with `timeout=0` never waits.
 */
export function countLongPolls(
  endpoints: readonly Endpoint[],
  metrics: Pick<AppMetrics, 'longPoll'>,
  kindOf: (endpoint: Endpoint) => LongPollKind | undefined,
): Endpoint[] {
  return endpoints.map((endpoint) => {
    const kind = kindOf(endpoint);
    if (kind === undefined) return endpoint;
    const handler = endpoint.handler;
    return {
      ...endpoint,
      handler: (request) => {
        const timeout = request.query.get('timeout');
        if (timeout === null || !/^\d{1,15}$/.test(timeout) || Number(timeout) === 0) return handler(request);
        return metrics.longPoll(kind, async () => handler(request));
      },
    };
  });
}
