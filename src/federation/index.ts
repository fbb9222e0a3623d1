// Federation as one unit for the composition root, built in two steps because the
// roomserver needs the network and the federation endpoints need the roomserver:
//   1. `createFederationTransport`: the signed client, the keyring, and the roomserver's
//      ports (RemoteKeyLookup, FederationFetcher) — before the Roomserver exists;
//   2. `createFederation`: the endpoints (keys, transactions, reads) and the X-Matrix
//      authenticator with the operator's allow/deny lists in front.
// Helpers that add federation endpoints register them in `createFederation` (one block each).

import type { StoaConfig } from '../config/types.ts';
import { Keyring, type KeyFetcher, type KeyQuery, type LocalKeys } from '../crypto/keyring.ts';
import type { ServerKeyDocument } from '../crypto/server-key-response.ts';
import type { SigningKey } from '../crypto/signing-key.ts';
import type { Endpoint, FederationAuthenticator } from '../http/define-endpoint.ts';
import type { Logger } from '../logger.ts';
import type { FederationFetcher, RemoteKeyLookup, Roomserver } from '../roomserver/index.ts';
import { tryDecodeBase64 } from '../rooms/base64.ts';
import { FederationInboundRepository } from '../storage/federation-inbound-repository.ts';
import { ProfilesRepository } from '../storage/profiles-repository.ts';
import { ServerKeysRepository, type StoaDatabase } from '../storage/index.ts';
import { systemDns, type Dns } from '../net/dns.ts';
import { FederationClient } from './client/federation-client.ts';
import { notaryFetchersFromConfig, OriginKeyFetcher } from './client/key-fetchers.ts';
import { ServerDiscovery } from './client/server-discovery.ts';
import { loadFederationTls, type TransportOptions } from './client/transport.ts';
import { HttpsWellKnownFetcher } from './client/well-known-fetcher.ts';
import { ClientFederationFetcher } from './fetcher.ts';
import { AllowListAuthenticator } from './policy/allow-list-authenticator.ts';
import { FederationAllowList } from './policy/federation-allow-list.ts';
import { RoomAccess } from './policy/room-access.ts';
import { EduDispatcher, type EduHandlers } from './server/edus.ts';
import { clientListenerFederationEndpoints, federationFoundationEndpoints } from './server/foundation.ts';
import { keyQueryEndpoints } from './server/key-query.ts';
import { readEndpoints } from './server/reads/index.ts';
import { queryProfileEndpoint } from './server/reads/query-profile.ts';
import { TransactionProcessor, transactionEndpoints } from './server/transactions.ts';
import { XMatrixAuthenticator } from './server/x-matrix-auth.ts';
import { AliasesRepository } from '../storage/aliases-repository.ts';
import { directoryQueryEndpoint, RemoteDirectory } from './directory-query.ts';
import { RemoteMembership } from './membership/remote-membership.ts';
import { FederationSender, federationClientTransport } from './sender/index.ts';
import { membershipEndpoints } from './server/membership/index.ts';
import { e2eeFederationEndpoints } from './server/e2ee/index.ts';
import { openidUserinfoEndpoint } from './server/openid-userinfo.ts';
import { timestampToEventEndpoint } from './server/timestamp-to-event.ts';
import { RoomDirectoryQueries } from '../roomserver/directory/room-directory.ts';
import { FederationRoomDirectory } from './directory/remote-room-directory.ts';
import { federationDirectoryEndpoints } from './server/directory/index.ts';

export type { EduHandler, EduHandlers, ReceivedEdu } from './server/edus.ts';

const CONNECT_TIMEOUT_MS = 10_000;

export interface FederationTransportDeps {
  readonly config: StoaConfig;
  readonly db: StoaDatabase;
  readonly signingKey: SigningKey;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Default: the system resolver. Tests and closed networks answer lookups themselves. */
  readonly dns?: Dns;
}

export interface FederationTransport {
  readonly client: FederationClient;
  readonly keyring: Keyring;
  readonly allowList: FederationAllowList;
  /** For the Roomserver: remote servers' verify keys through the keyring. */
  readonly remoteKeys: RemoteKeyLookup;
  /** For the Roomserver: fetching events it is missing. */
  readonly fetcher: FederationFetcher;
  close(): Promise<void>;
}

/** Reads the TLS trust files (an error at startup when one is missing) and builds the client side. */
export async function createFederationTransport(deps: FederationTransportDeps): Promise<FederationTransport> {
  const { config, signingKey, logger, clock } = deps;
  const log = logger.child({ component: 'federation' });
  const transport: TransportOptions = {
    tls: await loadFederationTls(config.federation),
    dns: deps.dns ?? systemDns,
    allowPrivateAddresses: config.federation.allow_private_addresses,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  };
  const wellKnown = new HttpsWellKnownFetcher(transport);
  const resolver = new ServerDiscovery({ dns: transport.dns, wellKnown, now: clock });
  const client = new FederationClient({ ...transport, serverName: config.server_name, signingKey, resolver });
  const allowList = new FederationAllowList(config.federation);

  const notaries = notaryFetchersFromConfig(client, config.federation.trusted_key_servers);
  for (const problem of notaries.problems) log.warn(problem, 'trusted key server not used');
  const keyring = new Keyring({
    cache: new ServerKeysRepository(deps.db.kysely),
    fetchers: [new AllowListKeyFetcher(new OriginKeyFetcher(client), allowList), ...notaries.fetchers],
    localKeys: localKeysOf(config, signingKey),
    now: clock,
    onFetchError: (fetcher, serverName, err) => log.info({ fetcher, server: serverName, err }, 'key fetch failed'),
  });
  return {
    client,
    keyring,
    allowList,
    remoteKeys: new KeyringRemoteKeys(keyring),
    fetcher: new ClientFederationFetcher(client, allowList),
    async close() {
      await Promise.allSettled([client.close(), wellKnown.close()]);
    },
  };
}

export interface FederationDeps {
  readonly config: StoaConfig;
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly signingKey: SigningKey;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly transport: FederationTransport;
  /** Handlers per EDU type; types without one are accepted and logged. */
  readonly eduHandlers?: EduHandlers;
}

export interface Federation {
  /** For the federation listener. */
  readonly federationEndpoints: readonly Endpoint[];
  /** The federation-side endpoints the client listener serves too (keys, delegation). */
  readonly clientListenerEndpoints: readonly Endpoint[];
  readonly federationAuth: FederationAuthenticator;
  readonly keyring: Keyring;
  readonly client: FederationClient;
  readonly remoteKeys: RemoteKeyLookup;
  readonly fetcher: FederationFetcher;
  /** The durable outbound queue: local events to the servers in their rooms, EDUs on request. */
  readonly sender: FederationSender;
  /** Joins, knocks, leaves and invites through other servers (the client API's `RemoteRoomMembership`). */
  readonly remoteMembership: RemoteMembership;
  /** Aliases of other servers (the client API's `RemoteAliasResolver`). */
  readonly remoteDirectory: RemoteDirectory;
  /** Other servers' published rooms and spaces (the client API's `RemoteRoomDirectory`). */
  readonly remoteRoomDirectory: FederationRoomDirectory;
  close(): Promise<void>;
}

export function createFederation(deps: FederationDeps): Federation {
  const { config, roomserver, signingKey, clock, transport } = deps;
  const log = deps.logger.child({ component: 'federation' });
  const foundation = { config, signingKey, now: clock };
  const keyQuery = keyQueryEndpoints({ ...foundation, keyring: transport.keyring });
  const access = new RoomAccess(roomserver, log);

  const federationEndpoints: Endpoint[] = [...federationFoundationEndpoints(foundation), ...keyQuery];
  const clientListenerEndpoints: Endpoint[] = [...clientListenerFederationEndpoints(foundation), ...keyQuery];

  // --- inbound transactions ---
  const transactions = new TransactionProcessor({
    roomserver,
    acl: access,
    edus: new EduDispatcher(deps.eduHandlers ?? new Map(), access, log),
    store: new FederationInboundRepository(deps.db.kysely),
    logger: log,
    clock,
  });
  federationEndpoints.push(...transactionEndpoints(transactions));

  // --- reads ---
  federationEndpoints.push(...readEndpoints({ rooms: roomserver, access, serverName: config.server_name, clock }));
  federationEndpoints.push(queryProfileEndpoint({ profiles: new ProfilesRepository(deps.db.kysely), serverName: config.server_name }));

  // --- /timestamp_to_event, and OpenID userinfo (token-authenticated, not X-Matrix) ---
  federationEndpoints.push(
    timestampToEventEndpoint({ db: deps.db, rooms: roomserver, access }),
    openidUserinfoEndpoint({ db: deps.db, clock }),
  );

  // --- end-to-end encryption: key queries and claims, device lists ---
  federationEndpoints.push(...e2eeFederationEndpoints({ serverName: config.server_name, db: deps.db }));

  // --- outbound sender, membership handshakes, directory queries ---
  const sender = new FederationSender({
    db: deps.db,
    serverName: config.server_name,
    rooms: roomserver,
    transport: federationClientTransport(transport.client),
    logger: log.child({ component: 'federation-sender' }),
    clock,
    sending: {
      enabled: config.cluster.role !== 'client',
      index: config.cluster.federation_sender_index,
      instances: config.cluster.federation_sender_instances,
    },
    cluster: roomserver.cluster,
  });
  // Subscribes at once; resuming the queued destinations continues in the background.
  sender.start().catch((err: unknown) => log.error({ err }, 'federation sender could not resume its queue'));
  federationEndpoints.push(
    ...membershipEndpoints({
      serverName: config.server_name,
      signingKey,
      roomserver,
      acl: access,
      remoteKeys: transport.remoteKeys,
      forward: (eventId, destinations) => sender.sendEvent(eventId, destinations),
      logger: log,
      clock,
    }),
    directoryQueryEndpoint({ serverName: config.server_name, aliases: new AliasesRepository(deps.db.kysely), roomserver }),
  );
  const remoteMembership = new RemoteMembership({
    serverName: config.server_name,
    signingKey,
    client: transport.client,
    roomserver,
    logger: log,
    clock,
  });
  const remoteDirectory = new RemoteDirectory(transport.client, config.server_name);

  // --- room directory and spaces: /publicRooms, /hierarchy, and asking other servers ---
  federationEndpoints.push(...federationDirectoryEndpoints(new RoomDirectoryQueries(roomserver, config.server_name, clock), access));
  const remoteRoomDirectory = new FederationRoomDirectory({
    client: transport.client,
    serverName: config.server_name,
    isAllowed: (serverName) => transport.allowList.isAllowed(serverName),
  });

  const xMatrix = new XMatrixAuthenticator({ serverName: config.server_name, keyring: transport.keyring, now: clock });
  return {
    federationEndpoints,
    clientListenerEndpoints,
    federationAuth: new HeardFromAuthenticator(new AllowListAuthenticator(xMatrix, transport.allowList, log), sender),
    keyring: transport.keyring,
    client: transport.client,
    remoteKeys: transport.remoteKeys,
    fetcher: transport.fetcher,
    sender,
    remoteMembership,
    remoteDirectory,
    remoteRoomDirectory,
    close: async () => {
      await sender.stop();
      await transport.close();
    },
  };
}

/** The roomserver's key port: a key counts when it was valid when the event was sent. */
export class KeyringRemoteKeys implements RemoteKeyLookup {
  readonly #keyring: Pick<Keyring, 'getVerifyKey'>;

  constructor(keyring: Pick<Keyring, 'getVerifyKey'>) {
    this.#keyring = keyring;
  }

  async verifyKey(serverName: string, keyId: string, validAt: number | undefined): Promise<Uint8Array | undefined> {
    // Room versions without key validity (v1–v4) take any key the server has published.
    const key = await this.#keyring.getVerifyKey(serverName, keyId, { minimumValidUntilTs: validAt ?? 0 });
    if (key === undefined || (validAt !== undefined && key.validUntilTs < validAt)) return undefined;
    return key.publicKey;
  }
}

/** Tells the sender a server is reachable again whenever one of its requests authenticates. */
class HeardFromAuthenticator implements FederationAuthenticator {
  readonly #inner: FederationAuthenticator;
  readonly #sender: Pick<FederationSender, 'heardFrom'>;

  constructor(inner: FederationAuthenticator, sender: Pick<FederationSender, 'heardFrom'>) {
    this.#inner = inner;
    this.#sender = sender;
  }

  async authenticate(request: Parameters<FederationAuthenticator['authenticate']>[0]) {
    const origin = await this.#inner.authenticate(request);
    this.#sender.heardFrom(origin.serverName);
    return origin;
  }
}

/** The origin key fetcher, refusing servers the operator's lists exclude (notaries may still vouch). */
class AllowListKeyFetcher implements KeyFetcher {
  readonly name: string;
  readonly source: KeyFetcher['source'];
  readonly #inner: KeyFetcher;
  readonly #allowList: FederationAllowList;

  constructor(inner: KeyFetcher, allowList: FederationAllowList) {
    this.name = inner.name;
    this.source = inner.source;
    this.#inner = inner;
    this.#allowList = allowList;
  }

  fetch(query: KeyQuery): Promise<ServerKeyDocument[]> {
    if (!this.#allowList.isAllowed(query.serverName)) {
      return Promise.reject(new Error(`${query.serverName} is not allowed by federation.allow/deny`));
    }
    return this.#inner.fetch(query);
  }
}

function localKeysOf(config: StoaConfig, signingKey: SigningKey): LocalKeys {
  const keys: Array<LocalKeys['keys'][number]> = [{ keyId: signingKey.keyId, publicKey: signingKey.publicKey }];
  for (const old of config.old_signing_keys) {
    const publicKey = tryDecodeBase64(old.public_key);
    if (publicKey !== undefined) keys.push({ keyId: old.key_id, publicKey, expiredTs: old.expired_ts });
  }
  return { serverName: config.server_name, keys };
}
