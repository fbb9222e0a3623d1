// `GET /health`: 200 `{"status":"ok"}` when the database answers, 503 otherwise, for load
// balancers and orchestrators. The database's error is logged, never sent: the endpoint is
// unauthenticated.

import type { Logger } from '../logger.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { defineEndpoint, HttpResponse, type Endpoint } from './define-endpoint.ts';

export interface HealthStatus {
  readonly status: 200 | 503;
  readonly body: { readonly status: 'ok' | 'unavailable' };
}

/** A check that resolves when the database can run a query. */
export type DatabasePing = () => Promise<void>;

/** A database that hangs (an exhausted pool, a partitioned server) must not hang the probe. */
export const HEALTH_TIMEOUT_MS = 5_000;

export function databasePing(db: Pick<StoaDatabase, 'kysely'>): DatabasePing {
  // `select 1` through the query builder: only the storage layer imports kysely itself.
  return async () => {
    await db.kysely.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
  };
}

export async function checkHealth(ping: DatabasePing, logger: Logger, timeoutMs = HEALTH_TIMEOUT_MS): Promise<HealthStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ping(), timeout]);
    return { status: 200, body: { status: 'ok' } };
  } catch (error) {
    logger.warn({ err: error }, 'health check failed');
    return { status: 503, body: { status: 'unavailable' } };
  } finally {
    clearTimeout(timer);
  }
}

export function healthEndpoint(ping: DatabasePing, timeoutMs = HEALTH_TIMEOUT_MS): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/health',
    auth: 'none',
    handler: async ({ log }) => {
      const result = await checkHealth(ping, log, timeoutMs);
      return HttpResponse.json({ ...result.body }, result.status);
    },
  });
}
