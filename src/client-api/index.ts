// The Client-Server API as one unit for the composition root: every area's endpoints, the
// access-token verifier the HTTP layer authenticates with, and what must stop on shutdown.
//
// Each area (accounts, rooms, sync, ...) owns `endpoints/<area>/` and exports a factory
// taking `ClientApiDeps` plus the shared services built here. Add one line per area.

import type { AppServices } from '../appservice/service.ts';
import type { StoaConfig } from '../config/types.ts';
import type { AccessTokenVerifier, Endpoint, RateLimiter } from '../http/define-endpoint.ts';
import type { Logger } from '../logger.ts';
import type { Roomserver } from '../roomserver/index.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { discoveryEndpoints } from './endpoints/discovery/index.ts';
import { createAuthentication, type AccountService } from './auth/index.ts';
import { createSso } from './sso/index.ts';
import { roomsReadEndpoints } from './endpoints/rooms-read/index.ts';
import { accountDataEndpoints } from './endpoints/account-data/index.ts';
import { capabilitiesEndpoints } from './endpoints/capabilities/index.ts';
import { presenceEndpoints } from './endpoints/presence/index.ts';
import { profileEndpoints } from './endpoints/profile/index.ts';
import { searchEndpoints } from './endpoints/search/index.ts';
import { SearchIndexer } from './search/search-indexer.ts';
import { SearchService } from './search/search-service.ts';
import { userDirectoryEndpoints } from './endpoints/user-directory/index.ts';
import { profileAccessFor, UserDirectoryService } from './user-directory/index.ts';
import { receiptEndpoints } from './endpoints/receipts/index.ts';
import { tagEndpoints } from './endpoints/tags/index.ts';
import { typingEndpoints } from './endpoints/typing/index.ts';
import { createEphemeralServices, type EphemeralServices } from './ephemeral/index.ts';
import { filterEndpoints } from './endpoints/filters/index.ts';
import { syncEndpoints } from './endpoints/sync/index.ts';
import { SyncService } from './sync/sync-service.ts';
import { SlidingSyncService } from './sliding-sync/sliding-sync-service.ts';
import { slidingSyncEndpoints } from './endpoints/sliding-sync/index.ts';
import { FiltersRepository } from '../storage/index.ts';
import { RoomsRepository } from '../storage/index.ts';
import { AliasDirectory, aliasEndpoints } from './endpoints/aliases/index.ts';
import type { RemoteAliasResolver } from './endpoints/aliases/alias-directory.ts';
import type { RemoteRoomMembership } from './endpoints/rooms-write/remote.ts';
import { roomsWriteEndpoints } from './endpoints/rooms-write/index.ts';
import { createE2ee, type E2eeFederation } from './e2ee/index.ts';
import { createE2eeStreams, type E2eeStreams } from '../storage/e2ee-streams.ts';

import { PushRulesService } from './push/push-rules-service.ts';
import { PushersService } from './push/pushers-service.ts';
import { PusherWorker } from './push/pusher-worker.ts';
import { pushRulesEndpoints } from './endpoints/push-rules/index.ts';
import { pushersEndpoints } from './endpoints/pushers/index.ts';
import { notificationsEndpoints } from './endpoints/notifications/index.ts';
import { relationsEndpoints } from './endpoints/relations/index.ts';
import { RelationIndexer } from './relations/relation-indexer.ts';
import { RelationAggregator } from './relations/aggregations.ts';
import { RelationsService } from './relations/relations-service.ts';
import { RelationSendGuard } from './relations/send-guard.ts';
import { ClientReadQueries } from '../roomserver/queries-client.ts';
import { RoomDirectoryQueries } from '../roomserver/directory/room-directory.ts';
import { AccountsRepository } from '../storage/index.ts';
import { directoryEndpoints } from './endpoints/directory/index.ts';
import { SpaceHierarchy } from './directory/space-hierarchy.ts';
import type { RemoteRoomDirectory } from './directory/ports.ts';
import { UpgradeFollower, upgradeEndpoints } from './endpoints/upgrade/index.ts';
import { reportEndpoints } from './endpoints/reports/index.ts';
import { timestampEndpoints } from './endpoints/timestamp/index.ts';
import { mutualRoomsEndpoints } from './endpoints/mutual-rooms/index.ts';
import { openidEndpoints } from './endpoints/openid/index.ts';
import { voipEndpoints } from './endpoints/voip/index.ts';
import { thirdPartyEndpoints } from './endpoints/third-party/index.ts';
import { withLegacyR0Paths } from './endpoints/legacy-r0/index.ts';

export interface ClientApiDeps {
  readonly config: StoaConfig;
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injected so tests can move time. */
  readonly clock: () => number;
  /** Federation's side of joins, invites, knocks and alias lookups; unset when federation is off. */
  readonly remote?: {
    readonly membership: RemoteRoomMembership;
    readonly aliases: RemoteAliasResolver;
    /** Other servers' room directories and spaces (issue 9 item 1). */
    readonly directory?: RemoteRoomDirectory;
  };
  /** The to-device and device-list streams, shared with federation's EDU handlers. Default: own ones. */
  readonly e2eeStreams?: E2eeStreams;
  /** Remote key queries/claims and EDUs for E2EE; absent: remote users' keys are `failures`. */
  readonly e2eeFederation?: E2eeFederation;
  /** Application services (issue 10): as_tokens, exclusive namespaces, user and alias queries. */
  readonly appServices?: AppServices;
}

export interface ClientApi {
  readonly endpoints: readonly Endpoint[];
  readonly accessTokens: AccessTokenVerifier | undefined;
  readonly rateLimiter: RateLimiter | undefined;
  /** Accounts, passwords, sessions: the admin API (src/admin/api) acts through it too. */
  readonly accounts: AccountService;
  /** Typing, receipts, presence, ...: main.ts connects them to federation's EDUs. */
  readonly ephemeral: EphemeralServices;
  /** Stops timers and wakes long-polls so the HTTP drain can finish. */
  close(): Promise<void>;
}

export function createClientApi(deps: ClientApiDeps): ClientApi {
  const endpoints: Endpoint[] = [...discoveryEndpoints(deps.config)];
  const closers: Array<() => Promise<void>> = [];
  let accessTokens: AccessTokenVerifier | undefined;
  let rateLimiter: RateLimiter | undefined;

  // --- areas register below (one block each) ---

  // Accounts, login, tokens, devices, user-interactive auth and rate limits.
  // `authentication.uia` and `.service` are for other areas (UIA-protected endpoints,
  // device-change listeners).
  const authentication = createAuthentication(deps);
  accessTokens = authentication.verifier;
  rateLimiter = authentication.rateLimiter;
  // Application services registered with `rate_limited: false` are not limited.
  if (rateLimiter !== undefined && deps.appServices !== undefined) rateLimiter = deps.appServices.exemptFromRateLimits(rateLimiter);
  endpoints.push(...authentication.endpoints);

  // Profiles, typing, receipts, read markers, account data, tags, presence, capabilities.
  // `ephemeral` is shared: /sync reads its streams, room creation and joins read profiles.
  const ephemeral = createEphemeralServices({
    db: deps.db,
    roomserver: deps.roomserver,
    serverName: deps.config.server_name,
    logger: deps.logger,
    clock: deps.clock,
    queryAppServiceUser: deps.appServices?.queryUser.bind(deps.appServices),
  });
  closers.push(() => ephemeral.close());
  // A display name given at registration (the shared-secret admin API takes one) becomes
  // the profile's; without one the localpart is shown, as the profile service derives.
  authentication.service.onUserRegistered(async ({ userId, displayName }) => {
    if (displayName !== undefined && displayName !== '') await ephemeral.profile.set(userId, userId, 'displayname', displayName);
  });
  endpoints.push(
    ...profileEndpoints(ephemeral.profile, profileAccessFor(deps)),
    ...typingEndpoints(ephemeral.typing, deps.roomserver),
    ...receiptEndpoints(ephemeral.receipts, ephemeral.readMarkers),
    ...accountDataEndpoints(ephemeral.accountData),
    ...tagEndpoints(ephemeral.accountData),
    ...presenceEndpoints(ephemeral.presence),
    ...capabilitiesEndpoints(),
  );

  // End-to-end encryption: keys, cross-signing, key backup, to-device, device lists.
  const e2ee = createE2ee({
    db: deps.db,
    roomserver: deps.roomserver,
    serverName: deps.config.server_name,
    logger: deps.logger,
    clock: deps.clock,
    streams: deps.e2eeStreams ?? createE2eeStreams(deps.db, deps.roomserver.cluster),
    federation: deps.e2eeFederation,
    uia: authentication.uia,
    accounts: authentication.service,
    reauthFlows: authentication.reauthFlows,
  });
  endpoints.push(...e2ee.endpoints);

  // Push rules, pushers, notifications (issue 9 item 4) and relations, threads and bundled
  // aggregations (item 2). /sync evaluates the push rules for unread counts and serves
  // `m.push_rules`; the read endpoints and /sync bundle aggregations; sends are checked by
  // the relation guard. The push worker and the relation index follow the event stream.
  const pushRules = new PushRulesService({ db: deps.db, announcer: ephemeral.accountData, clock: deps.clock });
  const pushers = new PushersService({ db: deps.db, clock: deps.clock });
  const appServices = deps.appServices;
  const pusherWorker = new PusherWorker({
    db: deps.db,
    roomserver: deps.roomserver,
    rules: pushRules,
    ...(appServices === undefined ? {} : { skipUser: (userId: string) => appServices.matcher.exclusiveUserOwner(userId) !== undefined }),
    serverName: deps.config.server_name,
    logger: deps.logger,
    clock: deps.clock,
    allowPrivateAddresses: deps.config.push.allow_private_addresses,
  });
  // One process delivers pushes (DESIGN.md "Scale"): a client-only process leaves it to the others.
  if (deps.config.cluster.role !== 'client') pusherWorker.start();
  closers.push(() => pusherWorker.close());
  const relationIndexer = new RelationIndexer({ db: deps.db, roomserver: deps.roomserver, logger: deps.logger });
  relationIndexer.start();
  closers.push(async () => relationIndexer.close());
  const relationQueries = new ClientReadQueries(deps.roomserver);
  const aggregations = new RelationAggregator({ indexer: relationIndexer, queries: relationQueries, clock: deps.clock });
  endpoints.push(
    ...pushRulesEndpoints(pushRules),
    ...pushersEndpoints(pushers),
    ...notificationsEndpoints({ db: deps.db, roomserver: deps.roomserver, clock: deps.clock }),
    ...relationsEndpoints(new RelationsService({ indexer: relationIndexer, queries: relationQueries, aggregator: aggregations, clock: deps.clock })),
  );

  // /sync and filters: one stream per source, long-polls woken by the roomserver's output.
  const filters = new FiltersRepository(deps.db);
  const sync = new SyncService({
    roomserver: deps.roomserver,
    db: deps.db,
    clock: deps.clock,
    sources: {
      typing: ephemeral.typing,
      receipts: ephemeral.receipts,
      accountData: ephemeral.accountData,
      presence: ephemeral.presence,
      toDevice: e2ee.toDevice,
      deviceLists: e2ee.deviceListsSource,
    },
    pushRules,
    aggregations,
  });
  closers.push(async () => sync.close());
  endpoints.push(...syncEndpoints(sync, filters), ...filterEndpoints(filters, deps.clock));

  // Simplified sliding sync (issue 9 item 7, MSC4186): the same sources and notifier as /sync.
  const slidingSync = new SlidingSyncService({
    roomserver: deps.roomserver,
    db: deps.db,
    clock: deps.clock,
    sources: sync.sources,
    notifier: sync.notifier,
    pushRules,
    aggregations,
  });
  endpoints.push(...slidingSyncEndpoints(slidingSync));

  // Room reads (/messages, /context, /event, /state, /members, /joined_members,
  // /joined_rooms) with history visibility enforced.
  endpoints.push(...roomsReadEndpoints({ roomserver: deps.roomserver, clock: deps.clock, aggregations }));

  // Room writes (createRoom, membership, state, send, redact) and room aliases. Rooms and
  // aliases of other servers go through `remote`/`aliases.remote` once federation provides them.
  const roomAliases = new AliasDirectory({
    db: deps.db,
    roomserver: deps.roomserver,
    serverName: deps.config.server_name,
    clock: deps.clock,
    ...(deps.remote === undefined ? {} : { remote: deps.remote.aliases }),
    appServices: deps.appServices,
  });
  const publishedRooms = new RoomsRepository(deps.db.kysely);
  endpoints.push(
    ...roomsWriteEndpoints({
      db: deps.db,
      roomserver: deps.roomserver,
      serverName: deps.config.server_name,
      logger: deps.logger,
      clock: deps.clock,
      aliases: roomAliases,
      profiles: ephemeral.profile,
      ...(deps.remote === undefined ? {} : { remote: deps.remote.membership }),
      publisher: { setVisibility: (roomId, visibility) => publishedRooms.setPublic(roomId, visibility === 'public') },
      relationGuard: new RelationSendGuard({ indexer: relationIndexer, roomserver: deps.roomserver }),
    }),
    ...aliasEndpoints(roomAliases, deps.roomserver),
  );

  // The room directory (issue 9 item 1): publishing, /publicRooms (here and, with `server`,
  // on other servers), room summaries and space hierarchies.
  const directoryRooms = new RoomDirectoryQueries(deps.roomserver, deps.config.server_name, deps.clock);
  const remoteDirectory = deps.remote?.directory;
  endpoints.push(
    ...directoryEndpoints({
      visibility: { rooms: publishedRooms, accounts: new AccountsRepository(deps.db.kysely), roomserver: deps.roomserver },
      rooms: directoryRooms,
      aliases: roomAliases,
      hierarchy: new SpaceHierarchy({ rooms: directoryRooms, remote: remoteDirectory, clock: deps.clock }),
      remote: remoteDirectory,
    }),
  );

  // Room upgrades, reports, /timestamp_to_event, /mutual_rooms, OpenID tokens, TURN, and the
  // third-party-ID routes Stoa answers without serving them (issue 9 item 6).
  const miscQueries = new ClientReadQueries(deps.roomserver);
  const upgradeFollower = new UpgradeFollower({
    roomserver: deps.roomserver,
    serverName: deps.config.server_name,
    accountData: ephemeral.accountData,
    pushRules,
    logger: deps.logger,
  });
  upgradeFollower.start();
  closers.push(() => upgradeFollower.close());
  endpoints.push(
    ...upgradeEndpoints({
      roomserver: deps.roomserver,
      aliases: roomAliases,
      listing: {
        isPublic: async (roomId) => (await publishedRooms.byId(roomId))?.isPublic === true,
        setPublic: (roomId, isPublic) => publishedRooms.setPublic(roomId, isPublic),
      },
      profiles: ephemeral.profile,
      logger: deps.logger,
    }),
    ...reportEndpoints({ db: deps.db, queries: miscQueries, serverName: deps.config.server_name, clock: deps.clock }),
    ...timestampEndpoints({ db: deps.db, queries: miscQueries }),
    ...mutualRoomsEndpoints(deps.roomserver),
    ...openidEndpoints({ db: deps.db, serverName: deps.config.server_name, clock: deps.clock }),
    ...voipEndpoints(deps.config.turn, deps.clock),
    ...thirdPartyEndpoints(),
  );

  // Single sign-on with OpenID Connect (issue 10 item 2): /login/sso/redirect, the provider
  // callback and the m.login.sso fallback; new users get the provider's display name.
  const sso = createSso({
    config: deps.config,
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    accounts: authentication.service,
    uia: authentication.uia,
    setDisplayName: (userId, name) => ephemeral.profile.set(userId, userId, 'displayname', name),
  });
  if (sso !== undefined) endpoints.push(...sso.endpoints);

  // Server-side search (issue 9 item 3): an index of message bodies, room names and topics
  // kept by a follower of the event stream. User directory (item 5), read from room state;
  // /profile visibility is applied in the profile endpoints above.
  const searchIndexer = new SearchIndexer({ db: deps.db, roomserver: deps.roomserver, logger: deps.logger });
  searchIndexer.start();
  closers.push(async () => searchIndexer.close());
  endpoints.push(
    ...searchEndpoints(new SearchService({ indexer: searchIndexer, queries: relationQueries, clock: deps.clock, aggregations })),
    ...userDirectoryEndpoints(new UserDirectoryService({ db: deps.db, config: deps.config.user_directory, serverName: deps.config.server_name })),
  );

  return {
    // Last, so every area's v3 endpoints get their legacy r0 path (issue 9 item 6).
    endpoints: withLegacyR0Paths(endpoints),
    accessTokens,
    rateLimiter,
    accounts: authentication.service,
    ephemeral,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
