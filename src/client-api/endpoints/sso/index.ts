// The single sign-on endpoints (issue 10 item 2): the login redirect, the provider's
// callback, and the m.login.sso fallback of user-interactive auth.

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { UserInteractiveAuth } from '../../auth/uia.ts';
import { SSO } from '../../auth/uia-stages.ts';
import type { SsoService } from '../../sso/sso-service.ts';
import { ssoCallbackEndpoint } from './callback.ts';
import { ssoRedirectEndpoints } from './redirect.ts';
import { ssoFallbackEndpoint } from './uia-fallback.ts';

export function ssoEndpoints(sso: SsoService, uia: UserInteractiveAuth): Endpoint[] {
  const callback = new URL(sso.callbackUrl);
  // Secure when the server is reached over https, as it is outside tests.
  const cookie = { path: callback.pathname, secure: callback.protocol === 'https:' };
  return [
    ...ssoRedirectEndpoints(sso, cookie),
    ssoCallbackEndpoint(sso, cookie, (sessionId, userId) => uia.completeOutOfBand(sessionId, SSO, userId)),
    ssoFallbackEndpoint(sso, uia, cookie),
  ];
}
