// GET /_matrix/client/v3/auth/m.login.sso/fallback/web?session= (client-server API § "SSO
// during User-Interactive Authentication"): first a page saying what is being confirmed
// (§ "Security considerations" 1), whose button comes back here with `idp` to be sent to the
// provider. The callback marks the stage done when the provider's subject is linked to the
// session's user.

import { defineEndpoint, HttpResponse, type Endpoint } from '../../../http/define-endpoint.ts';
import { missingParam } from '../../../http/matrix-error.ts';
import type { UserInteractiveAuth } from '../../auth/uia.ts';
import { confirmReauthPage, errorPage } from '../../sso/pages.ts';
import type { SsoService } from '../../sso/sso-service.ts';
import { sessionCookie, type CookieScope } from './cookie.ts';

export const SSO_FALLBACK_PATH = '/_matrix/client/v3/auth/m.login.sso/fallback/web';

export function ssoFallbackEndpoint(sso: SsoService, uia: Pick<UserInteractiveAuth, 'sessionUser'>, cookie: CookieScope): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: SSO_FALLBACK_PATH,
    auth: 'none',
    rateLimit: 'login',
    async handler({ query }) {
      const sessionId = query.get('session');
      if (sessionId === null) throw missingParam('Missing session');
      const userId = await uia.sessionUser(sessionId);
      if (userId === undefined || userId === null) return errorPage(400, 'This authentication session is unknown or has expired. Start again from your Matrix client.');
      const linked = await sso.linkedProviders(userId);
      if (linked.length === 0) return errorPage(403, 'Your account does not sign in through single sign-on.');
      const idpId = query.get('idp');
      if (idpId !== null && linked.includes(idpId)) {
        const { location, state } = await sso.startUserInteractiveAuth(idpId, sessionId);
        return new HttpResponse(302, undefined, undefined, { location, 'set-cookie': sessionCookie(state, cookie), 'cache-control': 'no-store' });
      }
      const names = new Map(sso.providers.map((p) => [p.id, p.name]));
      // Relative to this page, so the r0 path and a proxy's prefix are kept.
      return confirmReauthPage(linked.map((id) => ({ name: names.get(id) ?? id, href: `web?${new URLSearchParams({ session: sessionId, idp: id })}` })));
    },
  });
}
