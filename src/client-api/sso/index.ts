// Single sign-on with OpenID Connect as one unit for src/client-api/index.ts: the service
// and its endpoints, or nothing when `sso.providers` is empty (GET /login then offers no
// m.login.sso and the SSO paths answer 404 M_UNRECOGNIZED).

import type { StoaConfig } from '../../config/types.ts';
import type { Endpoint } from '../../http/define-endpoint.ts';
import type { Logger } from '../../logger.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import type { AccountService } from '../auth/account-service.ts';
import type { UserInteractiveAuth } from '../auth/uia.ts';
import { ssoEndpoints } from '../endpoints/sso/index.ts';
import { SsoService, type DisplayNameSetter } from './sso-service.ts';

export { SsoService } from './sso-service.ts';

export interface SsoDeps {
  readonly config: StoaConfig;
  readonly db: StoaDatabase;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly accounts: AccountService;
  readonly uia: UserInteractiveAuth;
  readonly setDisplayName: DisplayNameSetter;
}

export function createSso(deps: SsoDeps): { service: SsoService; endpoints: Endpoint[] } | undefined {
  if (deps.config.sso.providers.length === 0) return undefined;
  const service = new SsoService({
    config: deps.config,
    db: deps.db,
    accounts: deps.accounts,
    setDisplayName: deps.setDisplayName,
    clock: deps.clock,
    logger: deps.logger.child({ area: 'sso' }),
  });
  // What the administrator registers at each provider as the redirect URI.
  deps.logger.info({ area: 'sso', providers: service.providers.map((p) => p.id), callback_url: service.callbackUrl }, 'single sign-on enabled');
  return { service, endpoints: ssoEndpoints(service, deps.uia) };
}
