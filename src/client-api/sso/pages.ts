// The few HTML pages single sign-on shows in the user's browser: an error, the choice of
// provider (when /login/sso/redirect names none and there are several), the confirmation
// before re-authenticating for user-interactive auth, and the fallback's "done" page with
// the script § "Fallback" prescribes.

import { HttpResponse } from '../../http/define-endpoint.ts';

const HEADERS = {
  'cache-control': 'no-store',
  // Nothing on these pages loads from elsewhere; the done page's inline script is the only script.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function page(status: number, title: string, body: string, extraHeaders: Readonly<Record<string, string>> = {}): HttpResponse {
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}a.button{display:block;margin:.5rem 0;padding:.6rem;border:1px solid #888;border-radius:4px;text-decoration:none;text-align:center}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
  return new HttpResponse(status, html, 'text/html; charset=utf-8', { ...HEADERS, ...extraHeaders });
}

export function errorPage(status: number, message: string, extraHeaders: Readonly<Record<string, string>> = {}): HttpResponse {
  return page(status, 'Single sign-on failed', `<p id="error">${escapeHtml(message)}</p>`, extraHeaders);
}

export function providerChoicePage(choices: ReadonlyArray<{ name: string; href: string }>): HttpResponse {
  const links = choices.map((c) => `<a class="button" href="${escapeHtml(c.href)}">${escapeHtml(c.name)}</a>`).join('\n');
  return page(200, 'Choose how to sign in', links);
}

export function confirmReauthPage(choices: ReadonlyArray<{ name: string; href: string }>): HttpResponse {
  const links = choices.map((c) => `<a class="button" href="${escapeHtml(c.href)}">Continue with ${escapeHtml(c.name)}</a>`).join('\n');
  return page(
    200,
    'Confirm your identity',
    `<p>A Matrix client is asking to make a sensitive change to your account. Sign in again to allow it. If you did not expect this, do not continue: your account may be compromised.</p>\n${links}`,
  );
}

export function authDonePage(): HttpResponse {
  return page(
    200,
    'Authentication complete',
    `<p>You may now close this window and return to your Matrix client.</p>
<script>
if (window.onAuthDone) {
    window.onAuthDone();
} else if (window.opener && window.opener.postMessage) {
    window.opener.postMessage("authDone", "*");
}
</script>`,
  );
}
