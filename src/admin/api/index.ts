// The admin API (issue 8 item 5) and incoming webhooks (issue 10 item 3) as one unit for the
// composition root: Synapse-compatible `/_synapse/admin/...` endpoints (so tools such as
// synadm work), Stoa's own `/_stoa/admin/v1/...` ones (audit log, roles, webhooks) and the
// webhook post endpoint, all on the client listener.

import type { StoaConfig } from '../../config/types.ts';
import type { Endpoint, RateLimiter } from '../../http/define-endpoint.ts';
import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { AccountsRepository } from '../../storage/accounts-repository.ts';
import { AdminRepository } from '../../storage/admin-repository.ts';
import { AliasesRepository } from '../../storage/aliases-repository.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { RoomPurgeRepository } from '../../storage/room-purge-repository.ts';
import { AuditLog } from '../audit-log/audit-log.ts';
import { webhookEndpoints } from '../webhooks/endpoints.ts';
import { WebhookService } from '../webhooks/webhook-service.ts';
import { AdminAccess } from './access.ts';
import { guardBlockedRooms } from './blocked-rooms.ts';
import { eventReportEndpoints } from './event-reports.ts';
import { mediaEndpoints } from './media.ts';
import type { AdminAccountsPort, AdminMediaPort, AdminProfilesPort, AdminRoomTagsPort } from './ports.ts';
import { RateLimitOverrides, rateLimitOverrideEndpoints, type OverrideLimiterFactory } from './rate-limit-overrides.ts';
import { registrationTokenEndpoints } from './registration-tokens.ts';
import { roomEndpoints } from './rooms.ts';
import { serverNoticeEndpoints } from './server-notices.ts';
import { ShadowBans, shadowBanEndpoints } from './shadow-ban.ts';
import { stoaAdminEndpoints } from './stoa-admin.ts';
import { userEndpoints } from './users.ts';

export type { AdminAccountsPort, AdminMediaPort, AdminProfilesPort, AdminRoomTagsPort } from './ports.ts';
export { WEBHOOK_BUCKET, WEBHOOK_FAILED_BUCKET } from '../webhooks/endpoints.ts';

export interface AdminApiDeps {
  readonly config: Pick<StoaConfig, 'server_name' | 'max_request_body_bytes'>;
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly accounts: AdminAccountsPort;
  readonly profiles: AdminProfilesPort;
  readonly tags: AdminRoomTagsPort;
  readonly media: AdminMediaPort;
  /** For webhook posts (buckets WEBHOOK_BUCKET and WEBHOOK_FAILED_BUCKET); unset: unlimited. */
  readonly webhookRateLimiter?: RateLimiter | undefined;
  /** Builds the limiter of one user's rate-limit override. */
  readonly overrideLimiter: OverrideLimiterFactory;
}

export interface AdminApi {
  readonly endpoints: readonly Endpoint[];
  /** The client API's membership endpoints, refusing joins, knocks and invites to blocked rooms. */
  guardBlockedRooms(endpoints: readonly Endpoint[]): Endpoint[];
  /** The client API's send, state, redact, invite and typing endpoints, faked for shadow-banned users. */
  guardShadowBanned(endpoints: readonly Endpoint[]): Endpoint[];
  /** The HTTP layer's rate limiter with admins' per-user overrides applied. */
  withRateLimitOverrides(limiter: RateLimiter): RateLimiter;
  /** Loads the rate-limit overrides and shadow bans; call before serving. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createAdminApi(deps: AdminApiDeps): AdminApi {
  const { db, roomserver, clock } = deps;
  const serverName = deps.config.server_name;
  const logger = deps.logger.child({ component: 'admin-api' });
  const repository = new AdminRepository(db);
  const access = new AdminAccess({ repository, audit: new AuditLog(db, clock) });
  const webhooks = new WebhookService({ db, roomserver, serverName, clock });
  const aliases = new AliasesRepository(db.kysely);
  const overrides = new RateLimitOverrides({ repository, factory: deps.overrideLimiter, logger, cluster: roomserver.cluster });
  const bans = new ShadowBans({ repository, logger, cluster: roomserver.cluster });
  return {
    guardBlockedRooms: (endpoints) => guardBlockedRooms(endpoints, { repository, aliases }),
    guardShadowBanned: (endpoints) => bans.guard(endpoints),
    withRateLimitOverrides: (limiter) => overrides.wrap(limiter),
    async start() {
      await overrides.start();
      await bans.start();
    },
    async close() {
      overrides.close();
      bans.close();
    },
    endpoints: [
      ...stoaAdminEndpoints({ access, repository, serverName, clock }),
      ...rateLimitOverrideEndpoints({ access, repository, overrides, serverName }),
      ...shadowBanEndpoints({ access, repository, bans, serverName, clock }),
      ...userEndpoints({ access, repository, accounts: deps.accounts, profiles: deps.profiles, roomserver, serverName, clock }),
      ...roomEndpoints({ access, repository, aliases, purges: new RoomPurgeRepository(db), roomserver, serverName, clock, logger }),
      ...registrationTokenEndpoints({ access, repository, accounts: new AccountsRepository(db.kysely), clock }),
      ...mediaEndpoints({ access, repository, media: deps.media, serverName }),
      ...eventReportEndpoints({ access, repository, roomserver }),
      ...serverNoticeEndpoints({ access, repository, accounts: deps.accounts, profiles: deps.profiles, tags: deps.tags, roomserver, serverName, clock }),
      ...webhookEndpoints({ access, service: webhooks, rateLimiter: deps.webhookRateLimiter, maxBodyBytes: deps.config.max_request_body_bytes }),
    ],
  };
}
