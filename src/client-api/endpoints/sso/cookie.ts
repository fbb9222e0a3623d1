// The cookie tying a browser to the sign-on it started (client-server API § "Client login
// via SSO", "Security considerations" 2): set by the redirect, checked and cleared by the
// callback. Lax, so the provider's top-level redirect back still carries it. Its path is the
// callback's path as the browser sees it (public_baseurl may put a proxy prefix before it).

import { PENDING_LIFETIME_MS, SESSION_COOKIE } from '../../sso/sso-service.ts';

export interface CookieScope {
  readonly path: string;
  readonly secure: boolean;
}

export function sessionCookie(state: string, scope: CookieScope): string {
  return `${SESSION_COOKIE}=${state}; Path=${scope.path}; Max-Age=${PENDING_LIFETIME_MS / 1000}; HttpOnly; SameSite=Lax${scope.secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(scope: CookieScope): string {
  return `${SESSION_COOKIE}=; Path=${scope.path}; Max-Age=0; HttpOnly; SameSite=Lax${scope.secure ? '; Secure' : ''}`;
}
