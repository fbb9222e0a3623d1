// GET /_matrix/client/v3/login/sso/redirect and /login/sso/redirect/{idpId} (OpenAPI
// sso_login_redirect.yaml `redirectToSSO`, `redirectToIdP`): a 302 to the provider with the
// session cookie set. Without an IdP ID: the only provider, or a page to choose one.
// A redirectUrl outside `sso.client_whitelist` is refused here, before the user signs in,
// so a login token is never minted for it.

import { defineEndpoint, HttpResponse, type Endpoint, type EndpointRequest } from '../../../http/define-endpoint.ts';
import { forbidden, missingParam } from '../../../http/matrix-error.ts';
import { providerChoicePage } from '../../sso/pages.ts';
import type { SsoService } from '../../sso/sso-service.ts';
import { sessionCookie, type CookieScope } from './cookie.ts';

const REDIRECT_PATH = '/_matrix/client/v3/login/sso/redirect';

export function ssoRedirectEndpoints(sso: SsoService, cookie: CookieScope): Endpoint[] {
  const redirect = async (idpId: string | undefined, request: EndpointRequest<undefined, undefined>): Promise<HttpResponse> => {
    const redirectUrl = request.query.get('redirectUrl');
    if (redirectUrl === null) throw missingParam('Missing redirectUrl');
    if (!sso.isAllowedRedirect(redirectUrl)) throw forbidden('redirectUrl is not a client this server sends logins to (sso.client_whitelist)');
    const providers = sso.providers;
    if (idpId === undefined) {
      if (providers.length !== 1) {
        return providerChoicePage(
          // Relative to this page (…/sso/redirect), so the r0 path and a proxy's prefix are kept.
          providers.map((p) => ({ name: p.name, href: `redirect/${encodeURIComponent(p.id)}?${new URLSearchParams({ redirectUrl })}` })),
        );
      }
      idpId = (providers[0] as (typeof providers)[number]).id;
    }
    const { location, state } = await sso.startLogin(idpId, redirectUrl);
    return new HttpResponse(302, undefined, undefined, { location, 'set-cookie': sessionCookie(state, cookie), 'cache-control': 'no-store' });
  };
  return [
    defineEndpoint({
      method: 'GET',
      path: REDIRECT_PATH,
      auth: 'none',
      rateLimit: 'login',
      operationId: 'redirectToSSO',
      handler: (request) => redirect(undefined, request),
    }),
    defineEndpoint({
      method: 'GET',
      path: `${REDIRECT_PATH}/:idpId`,
      auth: 'none',
      rateLimit: 'login',
      operationId: 'redirectToIdP',
      handler: (request) => redirect(request.params['idpId'] ?? '', request),
    }),
  ];
}
