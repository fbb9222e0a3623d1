// The listeners: client (plain HTTP; TLS belongs to the reverse proxy in front), federation
// (HTTPS when a certificate and key are configured, else HTTP behind a proxy), and the
// optional metrics listener. `close()` drains: stop accepting, let in-flight requests
// finish, close keep-alive connections, force the stragglers after a timeout.

import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { StoaConfig } from '../config/types.ts';
import type { Logger } from '../logger.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { buildApp } from './app.ts';
import { answerMalformedRequest } from './client-error.ts';
import type { AccessTokenVerifier, Endpoint, FederationAuthenticator, GuestPolicy, RateLimiter } from './define-endpoint.ts';
import { checkHealth, databasePing, healthEndpoint } from './health.ts';
import { createHttpMetrics, createMetricsServer, type HttpMetrics } from './metrics.ts';

export interface HttpDeps {
  readonly config: StoaConfig;
  readonly logger: Logger;
  readonly db: Pick<StoaDatabase, 'kysely'>;
  /** The endpoints each listener serves; main.ts chooses them. `/health` is added to the client listener. */
  readonly endpoints?: { readonly client?: readonly Endpoint[]; readonly federation?: readonly Endpoint[] };
  readonly accessTokens?: AccessTokenVerifier;
  readonly federationAuth?: FederationAuthenticator;
  readonly rateLimiter?: RateLimiter;
  /** Which endpoints guest accounts may call; unset: all. */
  readonly guestAccess?: GuestPolicy;
  /** How long `close()` waits for in-flight requests before cutting connections. */
  readonly drainTimeoutMs?: number;
}

/** node:http server options that bound how long a client may hold a connection. */
export interface ConnectionTimeouts {
  /** From connect to the end of the request headers (slowloris: headers sent byte by byte). */
  readonly headersTimeout: number;
  /** From connect to the end of the request body: a body trickled in cannot hold a socket forever. */
  readonly requestTimeout: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeout: number;
  /** How often the two above are checked; Node's default (30 s) would add up to 30 s to each. */
  readonly connectionsCheckingInterval: number;
}

// Deliberate values rather than Node's defaults: 20 s is ample for any real client to send
// its headers; 5 minutes covers a large media upload on a slow link; a response in progress
// (a long-polling /sync) is not affected by any of these.
export const DEFAULT_CONNECTION_TIMEOUTS: ConnectionTimeouts = {
  headersTimeout: 20_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 10_000,
  connectionsCheckingInterval: 1_000,
};

export interface RunningHttp {
  readonly clientPort: number;
  readonly federationPort: number;
  readonly metricsPort: number | undefined;
  readonly metrics: HttpMetrics;
  /** Drains and closes every listener. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export async function startHttp(deps: HttpDeps): Promise<RunningHttp> {
  const { config, logger } = deps;
  const metrics = createHttpMetrics({ processMetrics: config.metrics.enabled });
  const ping = databasePing(deps.db);
  const common = {
    logger,
    metrics,
    maxBodyBytes: config.max_request_body_bytes,
    ...(deps.accessTokens === undefined ? {} : { accessTokens: deps.accessTokens }),
    ...(deps.federationAuth === undefined ? {} : { federationAuth: deps.federationAuth }),
    ...(deps.rateLimiter === undefined ? {} : { rateLimiter: deps.rateLimiter }),
    ...(deps.guestAccess === undefined ? {} : { guestAccess: deps.guestAccess }),
  };
  const clientApp = buildApp({
    ...common,
    listener: 'client',
    endpoints: [...(deps.endpoints?.client ?? []), healthEndpoint(ping)],
  });
  const federationApp = buildApp({ ...common, listener: 'federation', endpoints: deps.endpoints?.federation ?? [] });

  let draining = false;
  const inFlight = new Set<ServerResponse>();
  // Responses tell their clients to close the connection once draining has begun, so a
  // keep-alive connection ends with its in-flight request instead of holding close() open.
  const tracked = (listener: RequestListener): RequestListener => (req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    listener(req, res);
  };
  const beginDraining = (): void => {
    draining = true;
    for (const res of inFlight) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    }
  };

  const timeouts = DEFAULT_CONNECTION_TIMEOUTS;
  const clientServer = createHttpServer(timeouts, tracked(clientApp.callback()));
  const tls = config.listeners.federation;
  const federationServer =
    tls.tls_certificate_path !== undefined && tls.tls_private_key_path !== undefined
      ? createHttpsServer(
          { ...timeouts, cert: await readFile(tls.tls_certificate_path), key: await readFile(tls.tls_private_key_path) },
          tracked(federationApp.callback()),
        )
      : createHttpServer(timeouts, tracked(federationApp.callback()));
  clientServer.on('clientError', answerMalformedRequest);
  federationServer.on('clientError', answerMalformedRequest);
  const metricsServer = config.metrics.enabled
    ? createMetricsServer(metrics.registry, async () => checkHealth(ping, logger))
    : undefined;

  const servers: Server[] = [];
  try {
    const clientPort = await listen(clientServer, config.listeners.client.port, config.listeners.client.bind);
    servers.push(clientServer);
    const federationPort = await listen(federationServer, tls.port, tls.bind);
    servers.push(federationServer);
    let metricsPort: number | undefined;
    if (metricsServer !== undefined) {
      metricsPort = await listen(metricsServer, config.metrics.port, config.metrics.bind);
      servers.push(metricsServer);
    }
    const drainTimeoutMs = deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        beginDraining();
        await Promise.all(servers.map((server) => drain(server, drainTimeoutMs, logger)));
      })();
      return closing;
    };
    return { clientPort, federationPort, metricsPort, metrics, close };
  } catch (error) {
    await Promise.all(servers.map((server) => drain(server, 0, logger)));
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Resolves when every connection of `server` has ended. */
function drain(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      logger.warn({ timeout_ms: timeoutMs }, 'requests still running at shutdown: closing their connections');
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweeper);
      resolve();
    });
    // Keep-alive connections with no request in flight would otherwise hold close() open;
    // one whose streamed response had already begun becomes idle only when it ends.
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  });
}
