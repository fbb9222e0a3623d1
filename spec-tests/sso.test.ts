// Single sign-on with OpenID Connect against a real provider (issue 10 item 2): the
// `oidc-provider` package runs on loopback as the identity provider; the test plays the
// browser (following redirects by hand, keeping cookies, submitting the provider's
// development login and consent forms) and matrix-js-sdk plays the client.
// client-server API § "Client login via SSO", § "Login" (m.login.token), § "SSO during
// User-Interactive Authentication"; OpenAPI login.yaml and sso_login_redirect.yaml.
//
// Ports: Stoa must know the issuer before it starts and the provider must know Stoa's
// callback URL when it is built, so the test reserves the provider's port first, starts
// Stoa with that issuer (discovery happens on the first redirect, not at startup), then
// builds the provider with Stoa's callback and listens on the reserved port.

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import { createClient } from 'matrix-js-sdk';
import Provider from 'oidc-provider';
import { request as undiciRequest } from 'undici';
import { silentSdkLogger } from './rig/js-sdk.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { findFreePort, startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser } from './rig/users.ts';

type Json = Record<string, unknown>;

const IDP_ID = 'test-idp';
const CLIENT_ID = 'stoa-homeserver';
const CLIENT_SECRET = 'a-client-secret-for-the-test-provider';
const APP_URL = 'http://client.invalid/app/';
const CALLBACK_PATH = '/_synapse/client/oidc/callback';

let node: TestNode;
let idpServer: Server | undefined;
let issuer: string;

/** The provider's accounts: login name → claims (`preferred_username` is the login name). */
const ACCOUNTS: Readonly<Record<string, { name: string }>> = {
  alice: { name: 'Alice Liddell' },
  carol: { name: 'Carol SSO' },
  'Dave Q': { name: 'Dave' },
};

before(async () => {
  const idpPort = await findFreePort();
  issuer = `http://127.0.0.1:${idpPort}`;
  // A second provider where nothing listens: discovery fails.
  const downIssuer = `http://127.0.0.1:${await findFreePort()}/`;
  [node] = (await startNodes(1, {
    configOverrides: {
      password_config: { enabled: false },
      sso: {
        providers: [
          {
            id: IDP_ID,
            name: 'Test IdP',
            brand: 'testidp',
            issuer,
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            user_mapping: { localpart_template: '{{ user.preferred_username }}', display_name_template: '{{ user.name }}' },
          },
          { id: 'down-idp', name: 'Down IdP', issuer: downIssuer, client_id: 'x', client_secret: 'y' },
        ],
        client_whitelist: [APP_URL],
      },
    },
  })) as [TestNode];

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${node.clientUrl}${CALLBACK_PATH}`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
    cookies: { keys: ['test-cookie-signing-key'] },
    pkce: { required: () => true },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          // A subject unlike the login name, as real providers have.
          return { sub: `subject-${Buffer.from(id).toString('hex')}`, preferred_username: id, name: ACCOUNTS[id]?.name ?? id };
        },
      };
    },
  });
  const server = provider.listen(idpPort, '127.0.0.1');
  idpServer = server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
});

after(async () => {
  await new Promise<void>((resolve) => (idpServer === undefined ? resolve() : idpServer.close(() => resolve())));
  idpServer?.closeAllConnections();
  if (node !== undefined) await stopNodes([node]);
});

// ---------------------------------------------------------------------------------------
// A minimal browser: no automatic redirects, one cookie jar (names are distinct enough here).

interface BrowserResponse {
  readonly status: number;
  readonly location: string | undefined;
  readonly setCookies: string[];
  readonly contentType: string;
  readonly text: string;
}

class Browser {
  readonly cookies = new Map<string, string>();

  async get(url: string, init: { method?: 'GET' | 'POST'; form?: Record<string, string> } = {}): Promise<BrowserResponse> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form !== undefined) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await undiciRequest(url, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
    const text = await response.body.text();
    const raw = response.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const cookie of setCookies) {
      const [pair] = cookie.split(';');
      const eq = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, eq).trim();
      const value = (pair ?? '').slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(cookie) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const location = response.headers['location'];
    return {
      status: response.statusCode,
      location: typeof location === 'string' ? new URL(location, url).href : undefined,
      setCookies,
      contentType: String(response.headers['content-type'] ?? ''),
      text,
    };
  }

  /**
   * Follows redirects from `url` through the provider's login and consent pages (logging
   * in as `login`) until the browser is sent to Stoa's callback; returns that URL.
   */
  async signInAtProvider(url: string, login: string, options: { abort?: boolean } = {}): Promise<string> {
    let next = url;
    for (let step = 0; step < 20; step++) {
      if (next.startsWith(`${node.clientUrl}${CALLBACK_PATH}`)) return next;
      const page = await this.get(next);
      if (page.location !== undefined) {
        next = page.location;
        continue;
      }
      assert.equal(page.status, 200, `provider page ${next}: ${page.status} ${page.text.slice(0, 500)}`);
      if (options.abort === true) {
        next = `${next}/abort`;
        continue;
      }
      const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
      const prompt = /name="prompt" value="([a-z]+)"/.exec(page.text)?.[1];
      assert.ok(action !== undefined && prompt !== undefined, `no form on ${next}`);
      const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any' } : { prompt: prompt as string };
      const submitted = await this.get(new URL((action as string).replace(/&amp;/g, '&'), next).href, { method: 'POST', form });
      assert.ok(submitted.location !== undefined, `form ${prompt} answered ${submitted.status} ${submitted.text.slice(0, 300)}`);
      next = submitted.location;
    }
    throw new Error('too many redirects at the provider');
  }
}

function ssoRedirectUrl(redirectUrl: string, idpId?: string): string {
  // The URL matrix-js-sdk builds for the client (getSsoLoginUrl), so the test uses its paths.
  const client = createClient({ baseUrl: node.clientUrl, logger: silentSdkLogger });
  return client.getSsoLoginUrl(redirectUrl, 'sso', idpId);
}

/** A whole browser login as `login`; returns the callback's answer and the browser. */
async function ssoLogin(login: string, redirectUrl = `${APP_URL}?client_state=s1`): Promise<{ browser: Browser; callbackUrl: string; callback: BrowserResponse; idpUrl: string }> {
  const browser = new Browser();
  const start = await browser.get(ssoRedirectUrl(redirectUrl, IDP_ID));
  assert.equal(start.status, 302, start.text);
  const idpUrl = start.location ?? '';
  assert.ok(idpUrl.startsWith(`${issuer}/auth?`), `redirect to the provider, got ${idpUrl}`);
  const callbackUrl = await browser.signInAtProvider(idpUrl, login);
  const callback = await browser.get(callbackUrl);
  return { browser, callbackUrl, callback, idpUrl };
}

function loginTokenOf(callback: BrowserResponse): string {
  assert.equal(callback.status, 302, `callback: ${callback.status} ${callback.text.slice(0, 500)}`);
  const target = new URL(callback.location ?? '');
  assert.equal(`${target.origin}${target.pathname}`, APP_URL);
  const tokens = target.searchParams.getAll('loginToken');
  assert.equal(tokens.length, 1);
  return tokens[0] as string;
}

async function tokenLogin(token: string): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3/login`, { method: 'POST', body: { type: 'm.login.token', token } });
}

// ---------------------------------------------------------------------------------------

test('client-server-api § GET /login: m.login.sso with identity_providers, m.login.token, and no m.login.password when it is disabled', async () => {
  const res = await request(`${node.clientUrl}/_matrix/client/v3/login`);
  expectSpecResponse(res, 'getLoginFlows');
  const flows = (res.body as { flows: Json[] }).flows;
  const types = flows.map((f) => f['type']);
  assert.ok(!types.includes('m.login.password'), JSON.stringify(flows));
  assert.ok(types.includes('m.login.token'));
  const sso = flows.find((f) => f['type'] === 'm.login.sso');
  assert.deepEqual(sso?.['identity_providers'], [
    { id: IDP_ID, name: 'Test IdP', brand: 'testidp' },
    { id: 'down-idp', name: 'Down IdP' },
  ]);
});

test('client-server-api § Client login via SSO: redirect with PKCE, provider login, callback, m.login.token through matrix-js-sdk, whoami, send', async () => {
  const { callback, idpUrl } = await ssoLogin('alice');
  const authorization = new URL(idpUrl).searchParams;
  assert.equal(authorization.get('code_challenge_method'), 'S256');
  assert.match(authorization.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok((authorization.get('state') ?? '').length >= 22 && (authorization.get('nonce') ?? '').length >= 22);
  assert.equal(authorization.get('redirect_uri'), `${node.clientUrl}${CALLBACK_PATH}`);
  assert.equal(authorization.get('scope'), 'openid profile');

  const loginToken = loginTokenOf(callback);
  // The client's own query parameters survive.
  assert.equal(new URL(callback.location ?? '').searchParams.get('client_state'), 's1');

  const client = createClient({ baseUrl: node.clientUrl, logger: silentSdkLogger });
  const session = await client.loginRequest({ type: 'm.login.token', token: loginToken });
  assert.equal(session.user_id, `@alice:${node.serverName}`);
  const alice = createClient({ baseUrl: node.clientUrl, accessToken: session.access_token, userId: session.user_id, deviceId: session.device_id, logger: silentSdkLogger });
  const whoami = await alice.whoami();
  assert.equal(whoami.user_id, `@alice:${node.serverName}`);
  // The display name came from the provider's `name` claim.
  const profile = await alice.getProfileInfo(whoami.user_id);
  assert.equal(profile.displayname, 'Alice Liddell');
  const { room_id: roomId } = await alice.createRoom({ name: 'sso room' });
  const { event_id: eventId } = await alice.sendTextMessage(roomId, 'signed in with single sign-on');
  const event = await alice.fetchRoomEvent(roomId, eventId);
  assert.equal(event.sender, whoami.user_id);

  // A login token works once (§ "Login": an invalid token is 403 M_FORBIDDEN).
  expectMatrixError(await tokenLogin(loginToken), 403, 'M_FORBIDDEN');
});

test('client-server-api § Client login via SSO: a second login maps to the same user; the spent state cannot be replayed', async () => {
  const first = await ssoLogin('alice');
  const firstLogin = await tokenLogin(loginTokenOf(first.callback));
  expectSpecResponse(firstLogin, 'login');
  const second = await ssoLogin('alice');
  const secondLogin = await tokenLogin(loginTokenOf(second.callback));
  expectSpecResponse(secondLogin, 'login');
  assert.equal((firstLogin.body as Json)['user_id'], `@alice:${node.serverName}`);
  assert.equal((secondLogin.body as Json)['user_id'], (firstLogin.body as Json)['user_id']);
  assert.notEqual((secondLogin.body as Json)['device_id'], (firstLogin.body as Json)['device_id']);

  // The same callback again (its state spent, the cookie cleared) is an error page, no token.
  const replay = await second.browser.get(second.callbackUrl);
  assert.equal(replay.status, 400);
  assert.match(replay.contentType, /^text\/html/);
  assert.equal(replay.location, undefined);
});

test('client-server-api § Client login via SSO: provisioning maps claims to a valid localpart and appends a number when it is taken', async () => {
  await registerUser(node, 'carol');
  const carol = await tokenLogin(loginTokenOf((await ssoLogin('carol')).callback));
  expectSpecResponse(carol, 'login');
  assert.equal((carol.body as Json)['user_id'], `@carol1:${node.serverName}`);
  // appendices § "Mapping from other character sets": upper case folded, the rest =XX.
  const dave = await tokenLogin(loginTokenOf((await ssoLogin('Dave Q')).callback));
  expectSpecResponse(dave, 'login');
  assert.equal((dave.body as Json)['user_id'], `@dave=20q:${node.serverName}`);
});

test('client-server-api § Client login via SSO, Security considerations: a callback whose state is unknown or not this browser\'s is refused', async () => {
  const browser = new Browser();
  const start = await browser.get(ssoRedirectUrl(APP_URL, IDP_ID));
  assert.equal(start.status, 302);
  const cookie = start.setCookies.find((c) => c.startsWith('stoa_oidc_session='));
  assert.ok(cookie !== undefined && /HttpOnly/i.test(cookie) && /SameSite=Lax/i.test(cookie), String(cookie));
  const callbackUrl = await browser.signInAtProvider(start.location ?? '', 'alice');
  const code = new URL(callbackUrl).searchParams.get('code') ?? '';

  // A forged state, with this browser's cookie.
  const forged = await browser.get(`${node.clientUrl}${CALLBACK_PATH}?${new URLSearchParams({ code, state: 'not-a-state' })}`);
  assert.equal(forged.status, 400);
  assert.match(forged.contentType, /^text\/html/);
  assert.equal(forged.location, undefined);

  // The real callback URL in another browser (no cookie): unsolicited, refused.
  const elsewhere = await new Browser().get(callbackUrl);
  assert.equal(elsewhere.status, 400);
  assert.equal(elsewhere.location, undefined);
  assert.match(elsewhere.text, /not started from this browser/);

  // No state at all.
  const stateless = await browser.get(`${node.clientUrl}${CALLBACK_PATH}?code=${encodeURIComponent(code)}`);
  assert.equal(stateless.status, 400);
  assert.equal(stateless.location, undefined);
});

test('client-server-api § Client login via SSO: a user who cancels at the provider gets an error page and no login token', async () => {
  const browser = new Browser();
  const start = await browser.get(ssoRedirectUrl(APP_URL, IDP_ID));
  const callbackUrl = await browser.signInAtProvider(start.location ?? '', 'alice', { abort: true });
  assert.equal(new URL(callbackUrl).searchParams.get('error'), 'access_denied');
  const page = await browser.get(callbackUrl);
  assert.equal(page.status, 403);
  assert.match(page.contentType, /^text\/html/);
  assert.match(page.text, /access_denied/);
  assert.equal(page.location, undefined);
});

test('client-server-api § GET /login/sso/redirect: a redirectUrl outside the whitelist is refused; unknown IdP is 404', async () => {
  for (const redirectUrl of ['https://evil.example/', 'http://client.invalid/other/', 'http://client.invalid/app.evil/', 'http://client.invalid/app/../evil', 'javascript:alert(1)']) {
    const res = await request(ssoRedirectUrl(redirectUrl, IDP_ID));
    expectMatrixError(res, 403, 'M_FORBIDDEN');
    assert.equal(res.headers.get('set-cookie'), null);
  }
  const missing = await request(`${node.clientUrl}/_matrix/client/v3/login/sso/redirect/${IDP_ID}`);
  expectMatrixError(missing, 400, 'M_MISSING_PARAM');
  const unknown = await new Browser().get(ssoRedirectUrl(APP_URL, 'no-such-idp'));
  assert.equal(unknown.status, 404);
  assert.equal(JSON.parse(unknown.text).errcode, 'M_NOT_FOUND');
  // Without an IdP ID and with several providers: a page to choose one, linking to each.
  const chooser = ssoRedirectUrl(APP_URL);
  const generic = await new Browser().get(chooser);
  assert.equal(generic.status, 200);
  assert.match(generic.contentType, /^text\/html/);
  const links = [...generic.text.matchAll(/href="([^"]+)"/g)].map((m) => new URL((m[1] ?? '').replace(/&amp;/g, '&'), chooser).href);
  assert.deepEqual(
    links,
    [IDP_ID, 'down-idp'].map((id) => `${node.clientUrl}/_matrix/client/v3/login/sso/redirect/${id}?${new URLSearchParams({ redirectUrl: APP_URL })}`),
  );
  // A provider that cannot be reached.
  expectMatrixError(await request(ssoRedirectUrl(APP_URL, 'down-idp')), 502, 'M_UNKNOWN');
});

test('client-server-api § Login: with password_config.enabled false, m.login.password is refused, and so is POST /account/password', async () => {
  const res = await request(`${node.clientUrl}/_matrix/client/v3/login`, {
    method: 'POST',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' }, password: 'carol-password' },
  });
  expectMatrixError(res, 400, 'M_UNKNOWN');
  expectSpecResponse(res, 'login');
  // Nor can an account get a password to log in with.
  const alice = await tokenLogin(loginTokenOf((await ssoLogin('alice')).callback));
  const change = await request(`${node.clientUrl}/_matrix/client/v3/account/password`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${(alice.body as { access_token: string }).access_token}` },
    body: { new_password: 'a-new-password' },
  });
  // changePassword declares no 403; the error body is still the spec's (Synapse answers the same).
  expectMatrixError(change, 403, 'M_FORBIDDEN');
});

test('client-server-api § SSO during User-Interactive Authentication: m.login.sso through the fallback, then the request with the session only', async () => {
  const login = await tokenLogin(loginTokenOf((await ssoLogin('alice')).callback));
  const { access_token: accessToken, device_id: deviceId } = login.body as { access_token: string; device_id: string };
  const auth = { Authorization: `Bearer ${accessToken}` };
  const url = `${node.clientUrl}/_matrix/client/v3/devices/${encodeURIComponent(deviceId)}`;

  const challenge = await request(url, { method: 'DELETE', headers: auth, body: {} });
  expectSpecResponse(challenge, 'deleteDevice');
  assert.equal(challenge.status, 401);
  const { flows, session } = challenge.body as { flows: Array<{ stages: string[] }>; session: string };
  assert.deepEqual(flows, [{ stages: ['m.login.sso'] }]);

  const browser = new Browser();
  const fallback = `${node.clientUrl}/_matrix/client/v3/auth/m.login.sso/fallback/web?session=${encodeURIComponent(session)}`;
  const confirm = await browser.get(fallback);
  assert.equal(confirm.status, 200);
  assert.match(confirm.text, /sensitive change/);
  const href = /href="([^"]+)"/.exec(confirm.text)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(href !== undefined);
  const start = await browser.get(new URL(href, fallback).href);
  assert.equal(start.status, 302);
  const callbackUrl = await browser.signInAtProvider(start.location ?? '', 'alice');

  // Before the browser finishes, the stage is not done.
  const early = await request(url, { method: 'DELETE', headers: auth, body: { auth: { session } } });
  assert.equal(early.status, 401);

  const done = await browser.get(callbackUrl);
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /window\.onAuthDone\(\)/);
  assert.match(done.text, /postMessage\("authDone", "\*"\)/);

  const retried = await request(url, { method: 'DELETE', headers: auth, body: { auth: { session } } });
  expectSpecResponse(retried, 'deleteDevice');
  assert.equal(retried.status, 200, retried.text);
});

test('client-server-api § SSO during User-Interactive Authentication: another account at the provider does not complete the stage', async () => {
  const login = await tokenLogin(loginTokenOf((await ssoLogin('alice')).callback));
  const { access_token: accessToken, device_id: deviceId } = login.body as { access_token: string; device_id: string };
  const auth = { Authorization: `Bearer ${accessToken}` };
  const url = `${node.clientUrl}/_matrix/client/v3/devices/${encodeURIComponent(deviceId)}`;
  const { session } = (await request(url, { method: 'DELETE', headers: auth, body: {} })).body as { session: string };

  const browser = new Browser();
  const start = await browser.get(`${node.clientUrl}/_matrix/client/v3/auth/m.login.sso/fallback/web?${new URLSearchParams({ session, idp: IDP_ID })}`);
  assert.equal(start.status, 302);
  // carol (now @carol1) signs in at the provider instead of alice.
  const done = await browser.get(await browser.signInAtProvider(start.location ?? '', 'carol'));
  assert.equal(done.status, 403);
  const retried = await request(url, { method: 'DELETE', headers: auth, body: { auth: { session } } });
  assert.equal(retried.status, 401);
});
