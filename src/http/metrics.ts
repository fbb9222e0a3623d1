// Prometheus metrics for the HTTP listeners. Each running server gets its own registry (not
// prom-client's global one), so tests can run several servers in one process and a
// server's numbers are its own.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ListenerName = 'client' | 'federation';

/** Label for requests that matched no endpoint; raw paths would make label sets unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

export interface HttpMetrics {
  readonly registry: Registry;
  /** Record one finished request. `route` is the endpoint's path template. */
  observe(listener: ListenerName, method: string, route: string, status: number, seconds: number): void;
}

export interface HttpMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event-loop lag, GC). */
  readonly processMetrics?: boolean;
}

export function createHttpMetrics(options: HttpMetricsOptions = {}): HttpMetrics {
  const registry = new Registry();
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'stoa_' });
  const labelNames = ['listener', 'method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'stoa_http_requests_total',
    help: 'HTTP requests answered, by listener, method, route template and status code',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'stoa_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    observe(listener, method, route, status, seconds) {
      const labels = {
        listener,
        // Any token is a valid HTTP method; an unbounded label set is a memory leak.
        method: KNOWN_METHODS.has(method) ? method : 'OTHER',
        route,
        status: String(status),
      };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/**
 * The metrics listener's request handler: `GET /metrics` in the Prometheus text format, and
 * `GET /health` answered by `health` when given. Kept off the client and federation
 * listeners so it can be bound to an internal address only.
 */
export function metricsRequestListener(
  registry: Registry,
  health?: () => Promise<{ status: number; body: object }>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const send = (res: ServerResponse, status: number, contentType: string, body: string): void => {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, body: object): void =>
    send(res, status, 'application/json', JSON.stringify(body));
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/metrics' && isRead) {
      registry.metrics().then(
        (text) => send(res, 200, registry.contentType, text),
        () => sendJson(res, 500, { errcode: 'M_UNKNOWN', error: 'Could not collect metrics' }),
      );
    } else if (path === '/health' && isRead && health !== undefined) {
      health().then(
        (result) => sendJson(res, result.status, result.body),
        () => sendJson(res, 503, { status: 'unavailable' }),
      );
    } else if (path === '/metrics' || (path === '/health' && health !== undefined)) {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 405, { errcode: 'M_UNRECOGNIZED', error: 'Method not allowed' });
    } else {
      sendJson(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    }
  };
}

export function createMetricsServer(registry: Registry, health?: () => Promise<{ status: number; body: object }>): Server {
  return createServer(metricsRequestListener(registry, health));
}
