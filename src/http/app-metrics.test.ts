import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { APP_METRIC_NAMES, countLongPolls, createAppMetrics, type AppMetricsSources } from './app-metrics.ts';
import { defineEndpoint, type Endpoint, type EndpointRequest } from './define-endpoint.ts';
import { createHttpMetrics } from './metrics.ts';

type Listener = (event: { readonly origin: string }) => void;

function fakeRoomserver(): AppMetricsSources['roomserver'] & { emit(origin: string): void; listeners: Set<Listener> } {
  const listeners = new Set<Listener>();
  return {
    listeners,
    onNewEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(origin) {
      for (const l of listeners) l({ origin });
    },
  };
}

/** A registry as the metrics listener serves it, with the app collectors on it. */
function setUp(extra: Partial<AppMetricsSources> = {}) {
  const roomserver = fakeRoomserver();
  const http = createHttpMetrics({ processMetrics: true });
  const app = createAppMetrics({ serverName: 'here.test', roomserver, db: { engine: 'pglite' }, ...extra });
  app.register(http.registry);
  return { roomserver, registry: http.registry, app };
}

/** `name{labels} value` lines of the text exposition, keyed by everything before the value. */
async function samples(registry: ReturnType<typeof setUp>['registry']): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    result.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return result;
}

test('stoa_events_persisted_total: local when the origin is this server, else federation; close() unsubscribes', async () => {
  const { roomserver, registry, app } = setUp();
  roomserver.emit('here.test');
  roomserver.emit('here.test');
  roomserver.emit('there.test');
  const s = await samples(registry);
  assert.equal(s.get('stoa_events_persisted_total{origin="local"}'), 2);
  assert.equal(s.get('stoa_events_persisted_total{origin="federation"}'), 1);
  app.close();
  assert.equal(roomserver.listeners.size, 0);
});

test('stoa_federation_queue_depth and _failures: read from health() at scrape time, drained destinations disappear', async () => {
  let health = [
    { destination: 'a.test', queued: 3, failureCount: 2 },
    { destination: 'b.test', queued: 0, failureCount: 0 },
    { destination: 'c.test', queued: 0, failureCount: 1 },
  ];
  let reads = 0;
  const { registry } = setUp({
    federationSender: {
      health: async () => {
        reads++;
        return health;
      },
    },
  });
  let s = await samples(registry);
  assert.equal(reads, 1, 'one health() read serves both gauges');
  assert.equal(s.get('stoa_federation_queue_depth{destination="a.test"}'), 3);
  assert.equal(s.get('stoa_federation_destination_failures{destination="a.test"}'), 2);
  assert.equal(s.get('stoa_federation_queue_depth{destination="c.test"}'), 0);
  assert.equal(s.get('stoa_federation_destination_failures{destination="c.test"}'), 1);
  assert.equal(s.has('stoa_federation_queue_depth{destination="b.test"}'), false);
  health = [{ destination: 'c.test', queued: 5, failureCount: 0 }];
  s = await samples(registry);
  assert.equal(s.has('stoa_federation_queue_depth{destination="a.test"}'), false);
  assert.equal(s.get('stoa_federation_queue_depth{destination="c.test"}'), 5);
});

test('stoa_db_pool_connections: poolStats() when the database has a pool, else one connection', async () => {
  const pooled = setUp({ db: { engine: 'postgres', poolStats: () => ({ total: 7, idle: 4, waiting: 2 }) } });
  let s = await samples(pooled.registry);
  assert.equal(s.get('stoa_db_pool_connections{state="total"}'), 7);
  assert.equal(s.get('stoa_db_pool_connections{state="idle"}'), 4);
  assert.equal(s.get('stoa_db_pool_connections{state="waiting"}'), 2);
  s = await samples(setUp().registry);
  assert.equal(s.get('stoa_db_pool_connections{state="total"}'), 1);
  assert.equal(s.get('stoa_db_pool_connections{state="waiting"}'), 0);
});

test('stoa_appservice_queue_depth: pending rows per application service, read at scrape time', async () => {
  let counts = [{ appservice: 'bridge', queued: 4 }, { appservice: 'bot', queued: 0 }];
  const { registry } = setUp({ appServices: { pendingCounts: async () => counts } });
  let s = await samples(registry);
  assert.equal(s.get('stoa_appservice_queue_depth{appservice="bridge"}'), 4);
  assert.equal(s.get('stoa_appservice_queue_depth{appservice="bot"}'), 0);
  counts = [];
  s = await samples(registry);
  assert.equal(s.has('stoa_appservice_queue_depth{appservice="bridge"}'), false);
});

test('countLongPolls: counts requests with a timeout while their handler runs, by kind; timeout=0 is not counted', async () => {
  const { registry, app } = setUp();
  let release: () => void = () => {};
  const sync = defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/sync',
    auth: 'none',
    operationId: 'sync',
    handler: () => new Promise((resolve) => (release = () => resolve({}))),
  });
  const other = defineEndpoint({ method: 'GET', path: '/other', auth: 'none', handler: () => ({}) });
  const wrapped = countLongPolls([sync, other], app, (e) => (e.operationId === 'sync' ? 'sync' : undefined));
  assert.equal(wrapped[1], other, 'other endpoints are left as they are');
  const call = (endpoint: Endpoint, qs: string) =>
    endpoint.handler({ query: new URLSearchParams(qs) } as unknown as EndpointRequest<unknown, unknown>);
  const waiting = async () => (await samples(registry)).get('stoa_sync_waiters{kind="sync"}');

  const poll = call(wrapped[0]!, 'timeout=30000');
  assert.equal(await waiting(), 1);
  assert.equal((await samples(registry)).get('stoa_sync_waiters{kind="sliding_sync"}'), 0);
  release();
  await poll;
  assert.equal(await waiting(), 0);

  const immediate = call(wrapped[0]!, 'timeout=0');
  assert.equal(await waiting(), 0);
  release();
  await immediate;
});

test('APP_METRIC_NAMES lists exactly the families createAppMetrics registers', async () => {
  const { registry, app } = setUp();
  const httpNames = new Set((await createHttpMetrics({ processMetrics: true }).registry.getMetricsAsJSON()).map((m) => m.name));
  const appNames = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => !httpNames.has(n));
  assert.deepEqual(appNames.sort(), [...APP_METRIC_NAMES].sort());
  app.close();
});

// --- the example Grafana dashboard (deploy/grafana-dashboard.json) ------------------------

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

/** Metric names a PromQL expression reads: identifiers that are not functions, keywords or label names. */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const next = stripped.slice((match.index ?? 0) + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

test('metricNamesIn: finds metric names, not functions, labels or ranges', () => {
  assert.deepEqual(
    metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(stoa_x_bucket{route!~".*/sync"}[$__rate_interval])))'),
    ['stoa_x_bucket'],
  );
  assert.deepEqual(metricNamesIn('sum(a{state="total"}) - sum(b) or c offset 5m'), ['a', 'b', 'c']);
});

interface Panel {
  readonly type: string;
  readonly title?: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: ReadonlyArray<{ readonly expr?: string }>;
  readonly panels?: readonly Panel[];
}

test('deploy/grafana-dashboard.json: importable, and every query reads metrics Stoa exports', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    __inputs: Array<{ name: string; type: string; pluginId: string }>;
    schemaVersion: number;
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ definition?: string }> };
  };
  assert.deepEqual(
    dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]),
    [['DS_PROMETHEUS', 'datasource', 'prometheus']],
  );
  assert.ok(dashboard.schemaVersion >= 36, 'a current Grafana schema');
  assert.ok(dashboard.uid.length > 0);

  // The families a node with metrics enabled registers, with a histogram's series names.
  const { registry } = setUp();
  const exported = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    exported.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(metric.name + suffix);
  }

  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  const ids = new Set<number>();
  let queries = 0;
  for (const panel of panels) {
    assert.equal(panel.datasource?.uid, '${DS_PROMETHEUS}', `${panel.title}: datasource input`);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title}: has queries`);
    for (const target of panel.targets ?? []) {
      assert.ok(target.expr !== undefined && target.expr !== '', `${panel.title}: empty query`);
      const names = metricNamesIn(target.expr);
      assert.ok(names.length > 0, `${panel.title}: no metric in ${target.expr}`);
      for (const name of names) assert.ok(exported.has(name), `${panel.title}: ${name} is not exported`);
      queries++;
    }
  }
  for (const variable of dashboard.templating.list) {
    for (const name of metricNamesIn(variable.definition?.replace(/^label_values\((\w+),.*$/, '$1') ?? '')) assert.ok(exported.has(name), name);
  }
  for (const p of dashboard.panels as Array<Panel & { id: number }>) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} is unique`);
    ids.add(p.id);
  }
  assert.ok(queries >= 10);
  // The list: each operator family is on the dashboard.
  const all = panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNamesIn(t.expr ?? ''))).join(' ');
  for (const family of [...APP_METRIC_NAMES, 'stoa_http_requests_total', 'stoa_http_request_duration_seconds', 'stoa_process_resident_memory_bytes', 'stoa_nodejs_eventloop_lag']) {
    assert.ok(all.includes(family), `${family} is on the dashboard`);
  }
});
