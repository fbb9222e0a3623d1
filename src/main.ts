// Composition root: config → database → migrations → signing key → HTTP listeners.
// The only module that wires components together; each receives what it needs as arguments.
import { mkdir } from 'node:fs/promises';
import { createAppServiceLayer, loadRegistrations } from './appservice/index.ts';
import { createAdminApi, WEBHOOK_BUCKET, WEBHOOK_FAILED_BUCKET } from './admin/api/index.ts';
import { createComplianceApi } from './admin/compliance-api/index.ts';
import { createClientApi } from './client-api/index.ts';
import { SLIDING_SYNC_PATH } from './client-api/endpoints/sliding-sync/sliding-sync.ts';
import { guestMayUse } from './client-api/auth/guest-access.ts';
import { TokenBucketRateLimiter } from './client-api/rate-limit/token-bucket.ts';
import type { StoaConfig } from './config/types.ts';
import { loadOrCreateSigningKey } from './crypto/signing-key.ts';
import { startEphemeralEdus, type EphemeralEdus } from './federation/edu/index.ts';
import { createE2eeFederation } from './federation/edu/e2ee-wiring.ts';
import { createFederation, createFederationTransport, type EduHandler, type Federation } from './federation/index.ts';
import { clientListenerFederationEndpoints, federationFoundationEndpoints } from './federation/server/foundation.ts';
import { countLongPolls, createAppMetrics, type LongPollKind } from './http/app-metrics.ts';
import type { Endpoint } from './http/define-endpoint.ts';
import { startHttp } from './http/server.ts';
import { systemDns } from './net/dns.ts';
import { FederationMediaFetcher } from './federation/media-fetcher.ts';
import { createMedia } from './media/index.ts';
import type { Logger } from './logger.ts';
import { Roomserver } from './roomserver/index.ts';
import { migrateToLatest, openDatabase } from './storage/index.ts';
import { AppServiceRepository } from './storage/appservice-repository.ts';
import { Cluster } from './storage/cluster/cluster.ts';
import { PostgresBus } from './storage/cluster/postgres-bus.ts';
import { createE2eeStreams } from './storage/e2ee-streams.ts';

export interface RunningServer {
  /** Stops accepting connections, drains in-flight requests, closes the database. Idempotent. */
  close(): Promise<void>;
  readonly clientPort: number;
  readonly federationPort: number;
  readonly metricsPort?: number;
}

/** Start-up stopped at a step that is not a bug (a failed migration, for instance). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * Starts a homeserver from a validated config. Ports given as 0 are picked by the OS; the
 * bound ports are logged in one line with msg "listening" (the test rig reads it).
 */
export async function startServer(config: StoaConfig, logger: Logger): Promise<RunningServer> {
  // A bad application service registration is a config error, reported before anything starts.
  const appServiceRegistrations = await loadRegistrations(config.app_service_config_files, config.server_name);
  await mkdir(config.data_dir, { recursive: true });

  const db = await openDatabase(config.database, { logger: logger.child({ component: 'storage' }) });
  let cluster: Cluster | undefined;
  try {
    const report = await migrateToLatest(db);
    for (const outcome of report.results) {
      logger.info({ migration: outcome.name, status: outcome.status }, 'database migration');
    }
    if (report.error !== undefined) {
      throw new StartupError(`database migration failed: ${report.error.message}`, { cause: report.error });
    }

    const signingKey = await loadOrCreateSigningKey(config.signing_key_path);
    const keyFields = { signing_key_path: config.signing_key_path, key_id: signingKey.key.keyId };
    if (signingKey.created) {
      logger.info(keyFields, 'first start: generated a new signing key; keep this file safe and backed up');
    } else {
      logger.info(keyFields, 'signing key loaded');
    }

    const clock = Date.now;
    // The network side of federation exists before the roomserver, which is given its ports.
    const federationTransport = config.federation.enabled
      ? await createFederationTransport({ config, db, signingKey: signingKey.key, logger, clock })
      : undefined;
    // State resolution runs in the roomserver, built before the metrics below; this forwards its timings.
    let observeStateResolution: (seconds: number) => void = () => {};
    // Every process on PostgreSQL may share the database with others (DESIGN.md "Scale").
    const clusterLogger = logger.child({ component: 'cluster' });
    cluster = new Cluster({
      ...(config.database.engine === 'postgres' ? { bus: new PostgresBus(config.database.url, clusterLogger) } : {}),
      logger: clusterLogger,
      role: config.cluster.role,
      heartbeatMs: config.cluster.heartbeat_ms,
    });
    const roomserver = new Roomserver({
      cluster,
      queueFederation: config.federation.enabled,
      db,
      serverName: config.server_name,
      signingKey: signingKey.key,
      logger: logger.child({ component: 'roomserver' }),
      clock,
      onStateResolved: (seconds) => observeStateResolution(seconds),
      ...(federationTransport === undefined
        ? {}
        : { remoteKeys: federationTransport.remoteKeys, federation: federationTransport.fetcher }),
    });
    // Filled in below once the services behind each EDU type exist; the dispatcher looks
    // handlers up per EDU, and no transaction arrives before the listeners start.
    const eduHandlers = new Map<string, EduHandler>();
    const federation: Federation | undefined =
      federationTransport === undefined
        ? undefined
        : createFederation({ config, db, roomserver, signingKey: signingKey.key, logger, clock, transport: federationTransport, eduHandlers });
    // E2EE: one pair of streams for the client API's /sync and federation's EDU handlers.
    const e2eeStreams = createE2eeStreams(db, roomserver.cluster);
    const e2eeFederation =
      federation === undefined
        ? undefined
        : createE2eeFederation({ serverName: config.server_name, db, streams: e2eeStreams, client: federation.client, sender: federation.sender, rooms: roomserver, logger, clock });
    for (const [eduType, handler] of e2eeFederation?.handlers ?? []) eduHandlers.set(eduType, handler);
    // Application services: tokens and namespaces for the client API; events pushed to them.
    const appServices = createAppServiceLayer({ registrations: appServiceRegistrations, serverName: config.server_name, db, roomserver, logger, clock });
    const clientApi = createClientApi({
      config,
      db,
      roomserver,
      logger: logger.child({ component: 'client-api' }),
      clock,
      ...(federation === undefined
        ? {}
        : {
            remote: {
              membership: federation.remoteMembership,
              aliases: federation.remoteDirectory,
              directory: federation.remoteRoomDirectory,
            },
          }),
      e2eeStreams,
      ...(e2eeFederation === undefined ? {} : { e2eeFederation: e2eeFederation.port }),
      appServices: appServices.services,
    });
    const ephemeralEdus: EphemeralEdus | undefined =
      federation === undefined
        ? undefined
        : startEphemeralEdus({
            serverName: config.server_name,
            rooms: roomserver,
            outbox: federation.sender,
            typing: clientApi.ephemeral.typing,
            receipts: clientApi.ephemeral.receipts,
            presence: clientApi.ephemeral.presence,
            logger,
          });
    for (const [eduType, handler] of ephemeralEdus?.handlers ?? []) eduHandlers.set(eduType, handler);

    // Media: uploads and downloads on the client listener; remote media fetched over
    // federation (when on), and our media served to other servers.
    const mediaFetcher =
      federationTransport === undefined
        ? undefined
        : new FederationMediaFetcher({
            client: federationTransport.client,
            dns: systemDns,
            allowPrivateAddresses: config.federation.allow_private_addresses,
            isAllowed: (serverName) => federationTransport.allowList.isAllowed(serverName),
          });
    const media = await createMedia({ config, db, logger, clock, ...(mediaFetcher === undefined ? {} : { remote: mediaFetcher }) });

    // The admin API (Synapse-compatible paths) and incoming webhooks, on the client listener.
    const admin = createAdminApi({
      config,
      db,
      roomserver,
      logger,
      clock,
      accounts: clientApi.accounts,
      profiles: clientApi.ephemeral.profile,
      tags: clientApi.ephemeral.accountData,
      media: media.service,
      webhookRateLimiter: webhookRateLimiter(config, clock),
      overrideLimiter: (limits) => new TokenBucketRateLimiter({ buckets: {}, fallback: limits, clock }),
    });
    await admin.start();
    // Compliance: legal holds, retention purges, activity reports, archive exports (issue 8).
    const compliance = createComplianceApi({
      config,
      db,
      roomserver,
      signingKey: signingKey.key,
      logger,
      clock,
      media: {
        delete: (serverName, mediaId) => media.service.delete(serverName, mediaId),
        read: (serverName, mediaId) =>
          media.service.download(serverName, mediaId, { timeoutMs: 0, allowRemote: false, legacy: false }).then(
            (item) => ({ contentType: item.contentType, open: () => item.open() }),
            () => undefined,
          ),
      },
    });
    // Background jobs run where federation is sent (one process of a cluster, or the only one).
    const backgroundJobs = config.cluster.role !== 'client';
    await compliance.start(backgroundJobs);

    // Without federation the key and delegation endpoints are still served: tools ask them.
    const foundation = { config, signingKey: signingKey.key };
    appServices.observeEphemeral({ typing: clientApi.ephemeral.typing, receipts: clientApi.ephemeral.receipts });
    await appServices.start(backgroundJobs);
    // Operator metrics (issue 12 item 4), registered on the metrics listener's registry below.
    const appServiceQueue = new AppServiceRepository(db.kysely);
    const appMetrics = createAppMetrics({
      serverName: config.server_name,
      roomserver,
      db,
      ...(federation === undefined ? {} : { federationSender: federation.sender }),
      appServices: {
        pendingCounts: () =>
          Promise.all(appServiceRegistrations.map(async (r) => ({ appservice: r.id, queued: await appServiceQueue.pendingCount(r.id) }))),
      },
    });
    observeStateResolution = (seconds) => appMetrics.observeStateResolution(seconds);
    const longPollKind = (endpoint: Endpoint): LongPollKind | undefined =>
      endpoint.operationId === 'sync' ? 'sync' : endpoint.path === SLIDING_SYNC_PATH ? 'sliding_sync' : undefined;
    // Known to (and knowing) the other processes before the first request can write.
    await roomserver.ready();
    await cluster.start();
    const http = await startHttp({
      config,
      logger,
      db,
      endpoints: {
        client: [
          ...countLongPolls(admin.guardShadowBanned(admin.guardBlockedRooms(clientApi.endpoints)), appMetrics, longPollKind),
          ...media.clientEndpoints,
          ...admin.endpoints,
          ...compliance.endpoints,
          ...appServices.clientEndpoints,
          ...(federation?.clientListenerEndpoints ?? clientListenerFederationEndpoints(foundation)),
        ],
        federation:
          federation === undefined
            ? federationFoundationEndpoints(foundation)
            : [...federation.federationEndpoints, ...media.federationEndpoints],
      },
      ...(clientApi.accessTokens === undefined ? {} : { accessTokens: clientApi.accessTokens }),
      ...(federation === undefined ? {} : { federationAuth: federation.federationAuth }),
      ...(clientApi.rateLimiter === undefined ? {} : { rateLimiter: admin.withRateLimitOverrides(clientApi.rateLimiter) }),
      guestAccess: guestMayUse,
    });
    appMetrics.register(http.metrics.registry);
    logger.info(
      { client_port: http.clientPort, federation_port: http.federationPort, metrics_port: http.metricsPort ?? null },
      'listening',
    );

    const close = once(async () => {
      try {
        // Wake long-polls first so the HTTP drain does not wait out their timeouts.
        await clientApi.close();
        await http.close();
        appMetrics.close();
        await admin.close();
        await compliance.close();
        await appServices.close();
        await ephemeralEdus?.stop();
        await e2eeFederation?.close();
        await federation?.close();
        await media.close();
        await mediaFetcher?.close();
        await cluster?.close();
      } finally {
        await db.close();
      }
    });
    return http.metricsPort === undefined
      ? { close, clientPort: http.clientPort, federationPort: http.federationPort }
      : { close, clientPort: http.clientPort, federationPort: http.federationPort, metricsPort: http.metricsPort };
  } catch (error) {
    // A failed start must not leave the database lock held.
    await cluster?.close().catch(() => undefined);
    await db.close();
    throw error;
  }
}

/** Webhook posts share the message limits (per webhook); failed attempts the failed-login ones (per address). */
function webhookRateLimiter(config: StoaConfig, clock: () => number): TokenBucketRateLimiter | undefined {
  const limits = config.rate_limits;
  if (!limits.enabled) return undefined;
  return new TokenBucketRateLimiter({
    buckets: {
      [WEBHOOK_BUCKET]: { perSecond: limits.message.per_second, burst: limits.message.burst },
      [WEBHOOK_FAILED_BUCKET]: { perSecond: limits.failed_login.per_second, burst: limits.failed_login.burst },
    },
    clock,
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}
