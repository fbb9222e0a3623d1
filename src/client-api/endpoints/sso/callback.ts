// GET /_synapse/client/oidc/callback (Synapse's path, so provider registrations carry over):
// where the provider sends the browser back. A login ends in a 302 to the client's
// redirectUrl with `loginToken`; user-interactive auth in the fallback's "done" page. Every
// failure is a page for the user (not JSON: a browser is calling), and clears the cookie.

import { defineEndpoint, HttpResponse, type Endpoint } from '../../../http/define-endpoint.ts';
import { authDonePage, errorPage } from '../../sso/pages.ts';
import { CALLBACK_PATH, readCookie, SESSION_COOKIE, SsoFailure, type SsoOutcome, type SsoService } from '../../sso/sso-service.ts';
import { clearedSessionCookie, type CookieScope } from './cookie.ts';

/** Marks an m.login.sso stage done in a user-interactive auth session. */
export type CompleteSsoStage = (uiaSessionId: string, userId: string) => Promise<boolean>;

export function ssoCallbackEndpoint(sso: SsoService, cookie: CookieScope, completeStage: CompleteSsoStage): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: CALLBACK_PATH,
    auth: 'none',
    rateLimit: 'login',
    async handler({ query, ctx }) {
      const clear = { 'set-cookie': clearedSessionCookie(cookie) };
      let outcome: SsoOutcome;
      try {
        outcome = await sso.finish({
          state: query.get('state'),
          cookieState: readCookie(ctx.get('cookie') || undefined, SESSION_COOKIE),
          code: query.get('code'),
          error: query.get('error'),
          errorDescription: query.get('error_description'),
        });
      } catch (error) {
        if (error instanceof SsoFailure) return errorPage(error.status, error.message, clear);
        throw error;
      }
      if (outcome.kind === 'login') {
        return new HttpResponse(302, undefined, undefined, { location: outcome.location, 'cache-control': 'no-store', ...clear });
      }
      if (!(await completeStage(outcome.uiaSessionId, outcome.userId))) {
        return errorPage(403, 'The authentication session is unknown, expired, or belongs to another account.', clear);
      }
      const done = authDonePage();
      return new HttpResponse(done.status, done.body, done.contentType, { ...done.headers, ...clear });
    },
  });
}
