// Application services (issue 10 item 1; content/application-service-api.md) as one unit
// for the composition root: the registrations from `app_service_config_files`, the
// `AppServices` the client API consults (tokens, namespaces, queries), the transaction
// worker that pushes events, and the ping endpoint for the client listener.

import type { Endpoint } from '../http/define-endpoint.ts';
import type { Logger } from '../logger.ts';
import type { Roomserver } from '../roomserver/index.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { AppServiceClient } from './client.ts';
import type { EphemeralSources } from './ephemeral.ts';
import { pingEndpoint } from './ping-endpoint.ts';
import type { AppServiceRegistration } from './registration.ts';
import { AppServices } from './service.ts';
import { TransactionWorker } from './transaction-worker.ts';

export { loadRegistrations, parseRegistration, type AppServiceRegistration } from './registration.ts';
export { AppServices } from './service.ts';

export interface AppServiceLayerOptions {
  readonly registrations: readonly AppServiceRegistration[];
  readonly serverName: string;
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly logger: Logger;
  readonly clock: () => number;
}

export interface AppServiceLayer {
  readonly services: AppServices;
  /** For the client listener. */
  readonly clientEndpoints: readonly Endpoint[];
  /** Typing and receipts for services with `receive_ephemeral` (call before start). */
  observeEphemeral(sources: EphemeralSources): void;
  /** Registers missing sender users and starts pushing events. */
  /** `deliver` false: another process of the cluster pushes the transactions. */
  start(deliver?: boolean): Promise<void>;
  close(): Promise<void>;
}

export function createAppServiceLayer(options: AppServiceLayerOptions): AppServiceLayer {
  const logger = options.logger.child({ component: 'appservice' });
  const client = new AppServiceClient();
  const services = new AppServices({
    registrations: options.registrations,
    serverName: options.serverName,
    db: options.db,
    client,
    logger,
    clock: options.clock,
  });
  const worker = new TransactionWorker({ db: options.db, roomserver: options.roomserver, services, logger, clock: options.clock });
  return {
    services,
    clientEndpoints: [pingEndpoint(services, (id) => worker.retryNow(id))],
    observeEphemeral: (sources) => worker.observeEphemeral(sources),
    async start(deliver = true) {
      await services.ensureSenderUsers();
      for (const r of options.registrations) {
        logger.info({ appservice: r.id, url: r.url, sender: r.senderUserId, file: r.file }, 'application service registered');
      }
      // One process of a cluster delivers transactions.
      if (deliver) worker.start();
    },
    async close() {
      // In-flight pushes are abandoned (resent after the restart), not waited for.
      const stopped = worker.close();
      await client.destroy();
      await stopped;
    },
  };
}
