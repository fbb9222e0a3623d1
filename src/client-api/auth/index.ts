// The Client-Server API's authentication as one unit for src/client-api/index.ts: the
// access-token verifier, the rate limiter, the account service, the user-interactive auth
// engine (with the stages Stoa offers), and the account and device endpoints.

import type { Endpoint } from '../../http/define-endpoint.ts';
import { accountEndpoints } from '../endpoints/account/index.ts';
import type { AccountContext } from '../endpoints/account/context.ts';
import { deviceEndpoints } from '../endpoints/devices/index.ts';
import { reauthFlows } from '../endpoints/account/reauth.ts';
import type { ClientApiDeps } from '../index.ts';
import { RATE_LIMIT_BUCKETS, rateLimiterFromConfig } from '../rate-limit/from-config.ts';
import type { TokenBucketRateLimiter } from '../rate-limit/token-bucket.ts';
import { SsoRepository } from '../../storage/sso-repository.ts';
import { CachingAccessTokenVerifier } from './access-token-verifier.ts';
import { AccountService } from './account-service.ts';
import { dummyStage, passwordStage, registrationTokenStage, ssoStage, type FailedLoginLimit } from './uia-stages.ts';
import { UserInteractiveAuth } from './uia.ts';

export { AccountService, type DeviceChange, type IssuedSession, type RegisteredUser } from './account-service.ts';
export { CachingAccessTokenVerifier } from './access-token-verifier.ts';
export { requireUserInteractiveAuth, UiaChallenge, UserInteractiveAuth, type UiaRequest, type UiaResult, type UiaStage } from './uia.ts';
export { DUMMY, PASSWORD, REGISTRATION_TOKEN, SSO } from './uia-stages.ts';

export interface Authentication {
  readonly verifier: CachingAccessTokenVerifier;
  /** Undefined when `rate_limits.enabled` is false. */
  readonly rateLimiter: TokenBucketRateLimiter | undefined;
  readonly service: AccountService;
  /** For other areas' UIA-protected endpoints (e.g. cross-signing key upload). */
  readonly uia: UserInteractiveAuth;
  /** The flows a signed-in user re-authenticates with (password, m.login.sso, or dummy). */
  readonly reauthFlows: (userId: string) => Promise<string[][]>;
  readonly endpoints: readonly Endpoint[];
}

export function createAuthentication(deps: ClientApiDeps): Authentication {
  const { config, db, clock } = deps;
  const logger = deps.logger.child({ area: 'auth' });
  const verifier = new CachingAccessTokenVerifier({ db, clock, logger, appServices: deps.appServices });
  const rateLimiter = rateLimiterFromConfig(config, clock);
  const failedLogins: FailedLoginLimit | undefined =
    rateLimiter === undefined ? undefined : { limiter: rateLimiter, bucket: RATE_LIMIT_BUCKETS.failedLogin };
  const service = new AccountService({
    db,
    roomserver: deps.roomserver,
    serverName: config.server_name,
    clock,
    logger,
    verifier,
    refreshableTokenLifetimeMs: config.auth.refreshable_access_token_lifetime_ms,
    loginTokenLifetimeMs: config.auth.login_token_lifetime_ms,
  });
  const uia = new UserInteractiveAuth({
    db,
    clock,
    stages: [
      dummyStage,
      passwordStage({ accounts: service.accounts, serverName: config.server_name, failedLogins, enabled: config.password_config.enabled }),
      registrationTokenStage({ accounts: service.accounts, clock }),
      ...(config.sso.providers.length > 0 ? [ssoStage] : []),
    ],
  });
  const ssoLinks = new SsoRepository(db.kysely);
  const context: AccountContext = {
    config,
    service,
    uia,
    verifier,
    failedLogins,
    clock,
    appServices: deps.appServices,
    ...(config.sso.providers.length > 0 ? { ssoLinked: async (userId: string) => (await ssoLinks.linkedProviders(userId)).length > 0 } : {}),
  };
  return {
    verifier,
    rateLimiter,
    service,
    uia,
    reauthFlows: (userId) => reauthFlows(context, userId),
    endpoints: [...accountEndpoints(context), ...deviceEndpoints(context)],
  };
}
