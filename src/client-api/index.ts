// The Client-Server API as one unit for the composition root: every area's endpoints, the
// access-token verifier the HTTP layer authenticates with, and what must stop on shutdown.
//
// Each area (accounts, rooms, sync, ...) owns `endpoints/<area>/` and exports a factory
// taking `ClientApiDeps` plus the shared services built here. Add one line per area.

import type { StoaConfig } from '../config/types.ts';
import type { AccessTokenVerifier, Endpoint, RateLimiter } from '../http/define-endpoint.ts';
import type { Logger } from '../logger.ts';
import type { Roomserver } from '../roomserver/index.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { discoveryEndpoints } from './endpoints/discovery/index.ts';

export interface ClientApiDeps {
  readonly config: StoaConfig;
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injected so tests can move time. */
  readonly clock: () => number;
}

export interface ClientApi {
  readonly endpoints: readonly Endpoint[];
  readonly accessTokens: AccessTokenVerifier | undefined;
  readonly rateLimiter: RateLimiter | undefined;
  /** Stops timers and wakes long-polls so the HTTP drain can finish. */
  close(): Promise<void>;
}

export function createClientApi(deps: ClientApiDeps): ClientApi {
  const endpoints: Endpoint[] = [...discoveryEndpoints(deps.config)];
  const closers: Array<() => Promise<void>> = [];
  let accessTokens: AccessTokenVerifier | undefined;
  let rateLimiter: RateLimiter | undefined;

  // --- areas register below (one block each) ---

  return {
    endpoints,
    accessTokens,
    rateLimiter,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
