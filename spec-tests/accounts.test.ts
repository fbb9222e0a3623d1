// Black-box tests of accounts, login, tokens and devices (client-server API § "Client
// Authentication", § "User-Interactive Authentication API", § "Login", § "Account
// registration and management", § "Refreshing access tokens", § "Device management",
// § "Rate limiting") and of Synapse's shared-secret registration admin API. Every response
// is checked against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, sharedSecretRegistrationMac } from './rig/users.ts';

const GENEROUS = { per_second: 1000, burst: 1000 };

let node: TestNode;
let strict: TestNode;

before(async () => {
  [[node], [strict]] = (await Promise.all([
    // Limits out of the way for the functional tests; the strict node tests them.
    startNodes(1, { configOverrides: { rate_limits: { enabled: true, login: GENEROUS, registration: GENEROUS, failed_login: GENEROUS } } }),
    startNodes(1, {
      configOverrides: {
        registration: { require_token: true },
        rate_limits: { enabled: true, login: { per_second: 0.001, burst: 2 }, registration: GENEROUS },
      },
    }),
  ])) as [[TestNode], [TestNode]];
});
after(async () => {
  await stopNodes([node, strict].filter((n) => n !== undefined));
});

const v3 = (n: TestNode, path: string): string => `${n.clientUrl}/_matrix/client/v3${path}`;

function call(n: TestNode, method: string, path: string, body?: unknown, token?: string): Promise<HttpResponse> {
  return request(v3(n, path), {
    method,
    ...(body === undefined ? {} : { body }),
    ...(token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }),
  });
}

function field<T = unknown>(res: HttpResponse, key: string): T {
  return (res.body as Record<string, unknown>)[key] as T;
}

/** Registers through the UIA dummy flow (the way Element does it) and returns the 200. */
async function registerViaDummyFlow(username: string, password: string, extra: Record<string, unknown> = {}): Promise<HttpResponse> {
  const first = await call(node, 'POST', '/register', { username, password, ...extra });
  assert.equal(first.status, 401, first.text);
  const done = await call(node, 'POST', '/register', { username, password, ...extra, auth: { type: 'm.login.dummy', session: field(first, 'session') } });
  assert.equal(done.status, 200, done.text);
  return done;
}

async function passwordLogin(n: TestNode, user: string, password: string, extra: Record<string, unknown> = {}): Promise<HttpResponse> {
  return call(n, 'POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...extra });
}

function passwordAuth(user: string, password: string, session?: unknown): Record<string, unknown> {
  return { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...(session === undefined ? {} : { session }) };
}

describe('§ Account registration', () => {
  test('POST /register: 401 with flows, params and session first, then the m.login.dummy stage registers and logs in', async () => {
    const first = await call(node, 'POST', '/register', { username: 'Reggie', password: 'pw-reggie', initial_device_display_name: 'Test phone' });
    expectSpecResponse(first, 'register');
    assert.equal(first.status, 401);
    assert.deepEqual(field(first, 'flows'), [{ stages: ['m.login.dummy'] }]);
    assert.equal(field(first, 'errcode'), undefined);
    const session = field<string>(first, 'session');

    const done = await call(node, 'POST', '/register', {
      username: 'Reggie',
      password: 'pw-reggie',
      initial_device_display_name: 'Test phone',
      auth: { type: 'm.login.dummy', session },
    });
    expectSpecResponse(done, 'register');
    assert.equal(done.status, 200, done.text);
    // "map it onto a user_id in a logical manner": upper case folds.
    assert.equal(field(done, 'user_id'), `@reggie:${node.serverName}`);
    const whoami = await call(node, 'GET', '/account/whoami', undefined, field(done, 'access_token'));
    expectSpecResponse(whoami, 'getTokenOwner');
    assert.deepEqual(whoami.body, { user_id: `@reggie:${node.serverName}`, device_id: field(done, 'device_id'), is_guest: false });
    const device = await call(node, 'GET', `/devices/${encodeURIComponent(field(done, 'device_id'))}`, undefined, field(done, 'access_token'));
    assert.equal(field(device, 'display_name'), 'Test phone');

    // § UIA: a retried request on the completed session gets the result, not M_USER_IN_USE.
    const retried = await call(node, 'POST', '/register', { username: 'reggie', password: 'pw-reggie', auth: { type: 'm.login.dummy', session } });
    assert.equal(retried.status, 200, retried.text);
    assert.equal(field(retried, 'user_id'), `@reggie:${node.serverName}`);
  });

  test('taken and invalid usernames are refused before user-interactive auth', async () => {
    await registerViaDummyFlow('taken', 'pw');
    const taken = await call(node, 'POST', '/register', { username: 'taken', password: 'pw' });
    expectMatrixError(taken, 400, 'M_USER_IN_USE');
    expectSpecResponse(taken, 'register');
    for (const username of ['has space', 'émile', '12345', '']) {
      const invalid = await call(node, 'POST', '/register', { username, password: 'pw' });
      expectMatrixError(invalid, 400, 'M_INVALID_USERNAME');
    }
    expectMatrixError(await call(node, 'POST', '/register', { username: 7 }), 400, 'M_BAD_JSON');
    expectMatrixError(await request(v3(node, '/register'), { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } }), 400, 'M_NOT_JSON');
  });

  test('GET /register/available', async () => {
    const free = await request(v3(node, '/register/available?username=nobody-yet'));
    expectSpecResponse(free, 'checkUsernameAvailability');
    assert.deepEqual(free.body, { available: true });
    await registerViaDummyFlow('somebody', 'pw');
    const taken = await request(v3(node, '/register/available?username=somebody'));
    expectSpecResponse(taken, 'checkUsernameAvailability');
    expectMatrixError(taken, 400, 'M_USER_IN_USE');
    expectMatrixError(await request(v3(node, '/register/available?username=no%20spaces')), 400, 'M_INVALID_USERNAME');
  });

  test('inhibit_login registers without a session; without a username the server picks one', async () => {
    const inhibited = await registerViaDummyFlow('quiet', 'pw', { inhibit_login: true });
    expectSpecResponse(inhibited, 'register');
    assert.equal(field(inhibited, 'user_id'), `@quiet:${node.serverName}`);
    assert.equal(field(inhibited, 'access_token'), undefined);
    assert.equal(field(inhibited, 'device_id'), undefined);

    const first = await call(node, 'POST', '/register', { password: 'pw' });
    const generated = await call(node, 'POST', '/register', { password: 'pw', auth: { type: 'm.login.dummy', session: field(first, 'session') } });
    assert.equal(generated.status, 200, generated.text);
    assert.match(field<string>(generated, 'user_id'), new RegExp(`^@[a-z0-9._=\\-/+]+:${node.serverName.replace('.', '\\.')}$`));
  });

  test('guest registration is refused unless enabled', async () => {
    const guest = await request(v3(node, '/register?kind=guest'), { method: 'POST', body: {} });
    expectSpecResponse(guest, 'register');
    expectMatrixError(guest, 403, 'M_FORBIDDEN');
  });

  test('§ Token-authenticated registration: the m.login.registration_token stage is required when configured', async () => {
    const first = await call(strict, 'POST', '/register', { username: 'tokenless', password: 'pw' });
    expectSpecResponse(first, 'register');
    assert.deepEqual(field(first, 'flows'), [{ stages: ['m.login.registration_token'] }]);
    const dummy = await call(strict, 'POST', '/register', { username: 'tokenless', password: 'pw', auth: { type: 'm.login.dummy', session: field(first, 'session') } });
    assert.equal(dummy.status, 401, 'm.login.dummy is not offered');
    const wrong = await call(strict, 'POST', '/register', {
      username: 'tokenless',
      password: 'pw',
      auth: { type: 'm.login.registration_token', token: 'not-a-real-token', session: field(first, 'session') },
    });
    expectSpecResponse(wrong, 'register');
    assert.equal(wrong.status, 401);
    assert.equal(field(wrong, 'errcode'), 'M_FORBIDDEN');
    assert.equal(field(wrong, 'session'), field(first, 'session'));

    const validity = await request(`${strict.clientUrl}/_matrix/client/v1/register/m.login.registration_token/validity?token=abc`);
    expectSpecResponse(validity, 'registrationTokenValidity');
    assert.deepEqual(validity.body, { valid: false });
  });
});

describe('Synapse admin API: shared-secret registration', () => {
  test('a nonce and the MAC computed as register_new_matrix_user does create the account', async () => {
    const user = await registerUser(node, 'admin-made', { password: 'pw-admin', admin: true });
    assert.equal(user.userId, `@admin-made:${node.serverName}`);
    const whoami = await call(node, 'GET', '/account/whoami', undefined, user.accessToken);
    assert.equal(field(whoami, 'user_id'), user.userId);
    const login = await passwordLogin(node, 'admin-made', 'pw-admin');
    assert.equal(login.status, 200, login.text);
  });

  test('the displayname given at registration becomes the profile\u2019s display name', async () => {
    const user = await registerUser(node, 'named-at-birth', { displayName: 'Named At Birth' });
    const profile = await call(node, 'GET', `/profile/${encodeURIComponent(user.userId)}/displayname`, undefined, user.accessToken);
    assert.equal(field(profile, 'displayname'), 'Named At Birth');
  });

  test('a wrong MAC is 403, a spent or unknown nonce is 400, a taken name is M_USER_IN_USE', async () => {
    const url = `${node.clientUrl}/_synapse/admin/v1/register`;
    const nonce = field<string>(await request(url), 'nonce');
    const wrong = await request(url, {
      method: 'POST',
      body: { nonce, username: 'mallory', password: 'pw', admin: true, mac: sharedSecretRegistrationMac(node.registrationSharedSecret, nonce, 'mallory', 'pw', false) },
    });
    expectMatrixError(wrong, 403, 'M_FORBIDDEN');
    const replay = await request(url, {
      method: 'POST',
      body: { nonce, username: 'mallory', password: 'pw', admin: false, mac: sharedSecretRegistrationMac(node.registrationSharedSecret, nonce, 'mallory', 'pw', false) },
    });
    assert.equal(replay.status, 400, 'a nonce is spent by any attempt');
    await registerUser(node, 'twice');
    await assert.rejects(registerUser(node, 'twice'), /M_USER_IN_USE/);
  });
});

describe('§ Login', () => {
  let password: string;
  before(async () => {
    password = (await registerUser(node, 'lena')).password;
  });

  test('GET /login lists m.login.password and m.login.token', async () => {
    const res = await call(node, 'GET', '/login');
    expectSpecResponse(res, 'getLoginFlows');
    const types = field<Array<{ type: string }>>(res, 'flows').map((f) => f.type);
    assert.deepEqual(types.sort(), ['m.login.password', 'm.login.token']);
  });

  test('m.login.password with identifier (localpart or user ID) and with the deprecated user field', async () => {
    for (const body of [
      { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'lena' }, password },
      { type: 'm.login.password', identifier: { type: 'm.id.user', user: `@lena:${node.serverName}` }, password },
      { type: 'm.login.password', user: 'LENA', password },
    ]) {
      const res = await call(node, 'POST', '/login', body);
      expectSpecResponse(res, 'login');
      assert.equal(res.status, 200, res.text);
      assert.equal(field(res, 'user_id'), `@lena:${node.serverName}`);
    }
  });

  test('wrong passwords, unknown users, other servers and 3PIDs are 403 M_FORBIDDEN; unknown types 400', async () => {
    for (const res of [
      await passwordLogin(node, 'lena', 'wrong'),
      await passwordLogin(node, 'nobody-here', password),
      await passwordLogin(node, '@lena:elsewhere.example', password),
      await call(node, 'POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'a@b.c' }, password }),
    ]) {
      expectSpecResponse(res, 'login');
      expectMatrixError(res, 403, 'M_FORBIDDEN');
    }
    const unknownType = await call(node, 'POST', '/login', { type: 'm.login.carrier_pigeon' });
    expectSpecResponse(unknownType, 'login');
    assert.equal(unknownType.status, 400);
    expectMatrixError(await call(node, 'POST', '/login', { password }), 400, 'M_BAD_JSON');
  });

  test('device_id: a login on a known device replaces that device\'s token', async () => {
    const first = await passwordLogin(node, 'lena', password, { device_id: 'LENAPHONE', initial_device_display_name: 'Phone' });
    assert.equal(field(first, 'device_id'), 'LENAPHONE');
    const second = await passwordLogin(node, 'lena', password, { device_id: 'LENAPHONE' });
    assert.equal(field(second, 'device_id'), 'LENAPHONE');
    expectMatrixError(await call(node, 'GET', '/account/whoami', undefined, field(first, 'access_token')), 401, 'M_UNKNOWN_TOKEN');
    assert.equal((await call(node, 'GET', '/account/whoami', undefined, field(second, 'access_token'))).status, 200);
  });

  test('§ Using access tokens: missing is M_MISSING_TOKEN, unknown is M_UNKNOWN_TOKEN; the query parameter works too', async () => {
    expectMatrixError(await call(node, 'GET', '/account/whoami'), 401, 'M_MISSING_TOKEN');
    const unknown = await call(node, 'GET', '/account/whoami', undefined, 'sta_not-a-token');
    expectMatrixError(unknown, 401, 'M_UNKNOWN_TOKEN');
    assert.notEqual(field(unknown, 'soft_logout'), true);
    const login = await passwordLogin(node, 'lena', password);
    const viaQuery = await request(v3(node, `/account/whoami?access_token=${encodeURIComponent(field(login, 'access_token'))}`));
    assert.equal(viaQuery.status, 200, viaQuery.text);
  });

  test('§ Refreshing access tokens: refresh_token at login, POST /refresh rotates, the old refresh token dies once the new token is used', async () => {
    const login = await passwordLogin(node, 'lena', password, { refresh_token: true });
    expectSpecResponse(login, 'login');
    assert.equal(typeof field(login, 'refresh_token'), 'string');
    assert.equal(typeof field(login, 'expires_in_ms'), 'number');
    const refreshed = await call(node, 'POST', '/refresh', { refresh_token: field(login, 'refresh_token') });
    expectSpecResponse(refreshed, 'refresh');
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.notEqual(field(refreshed, 'refresh_token'), field(login, 'refresh_token'));
    const whoami = await call(node, 'GET', '/account/whoami', undefined, field(refreshed, 'access_token'));
    assert.equal(field(whoami, 'device_id'), field(login, 'device_id'), 'the new tokens belong to the same device');
    const reused = await call(node, 'POST', '/refresh', { refresh_token: field(login, 'refresh_token') });
    expectSpecResponse(reused, 'refresh');
    expectMatrixError(reused, 401, 'M_UNKNOWN_TOKEN');
  });

  test('m.login.token: POST /login/get_token behind UIA, single use', async () => {
    const session = await passwordLogin(node, 'lena', password);
    const token = field<string>(session, 'access_token');
    const challenge = await request(`${node.clientUrl}/_matrix/client/v1/login/get_token`, { method: 'POST', body: {}, headers: { Authorization: `Bearer ${token}` } });
    expectSpecResponse(challenge, 'generateLoginToken');
    assert.equal(challenge.status, 401);
    const issued = await request(`${node.clientUrl}/_matrix/client/v1/login/get_token`, {
      method: 'POST',
      body: { auth: passwordAuth('lena', password, field(challenge, 'session')) },
      headers: { Authorization: `Bearer ${token}` },
    });
    expectSpecResponse(issued, 'generateLoginToken');
    assert.equal(issued.status, 200, issued.text);
    const loginToken = field<string>(issued, 'login_token');
    const login = await call(node, 'POST', '/login', { type: 'm.login.token', token: loginToken });
    expectSpecResponse(login, 'login');
    assert.equal(field(login, 'user_id'), `@lena:${node.serverName}`);
    expectMatrixError(await call(node, 'POST', '/login', { type: 'm.login.token', token: loginToken }), 403, 'M_FORBIDDEN');
  });

  test('POST /logout ends the token and deletes its device; /logout/all ends every session', async () => {
    const a = await passwordLogin(node, 'lena', password);
    const b = await passwordLogin(node, 'lena', password);
    const logout = await call(node, 'POST', '/logout', {}, field(a, 'access_token'));
    expectSpecResponse(logout, 'logout');
    expectMatrixError(await call(node, 'GET', '/account/whoami', undefined, field(a, 'access_token')), 401, 'M_UNKNOWN_TOKEN');
    const devices = await call(node, 'GET', '/devices', undefined, field(b, 'access_token'));
    assert.ok(!field<Array<{ device_id: string }>>(devices, 'devices').some((d) => d.device_id === field(a, 'device_id')));

    const c = await passwordLogin(node, 'lena', password);
    const all = await call(node, 'POST', '/logout/all', {}, field(b, 'access_token'));
    expectSpecResponse(all, 'logout_all');
    for (const session of [b, c]) {
      expectMatrixError(await call(node, 'GET', '/account/whoami', undefined, field(session, 'access_token')), 401, 'M_UNKNOWN_TOKEN');
    }
  });
});

describe('§ Device management', () => {
  test('list, get, rename; unknown devices are 404', async () => {
    const user = await registerUser(node, 'dora');
    const list = await call(node, 'GET', '/devices', undefined, user.accessToken);
    expectSpecResponse(list, 'getDevices');
    assert.deepEqual(field<Array<{ device_id: string }>>(list, 'devices').map((d) => d.device_id), [user.deviceId]);
    const renamed = await call(node, 'PUT', `/devices/${user.deviceId}`, { display_name: 'Dora\'s laptop' }, user.accessToken);
    expectSpecResponse(renamed, 'updateDevice');
    const got = await call(node, 'GET', `/devices/${user.deviceId}`, undefined, user.accessToken);
    expectSpecResponse(got, 'getDevice');
    assert.equal(field(got, 'display_name'), 'Dora\'s laptop');
    assert.equal(field(got, 'device_id'), user.deviceId);
    expectMatrixError(await call(node, 'GET', '/devices/NOSUCHDEVICE', undefined, user.accessToken), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(node, 'PUT', '/devices/NOSUCHDEVICE', { display_name: 'x' }, user.accessToken), 404, 'M_NOT_FOUND');
  });

  test('DELETE /devices/{id} needs UIA with the password; the device and its token go', async () => {
    const user = await registerUser(node, 'dmitri');
    const other = await passwordLogin(node, 'dmitri', user.password);
    const otherId = field<string>(other, 'device_id');
    const challenge = await call(node, 'DELETE', `/devices/${otherId}`, {}, user.accessToken);
    expectSpecResponse(challenge, 'deleteDevice');
    assert.equal(challenge.status, 401);
    assert.deepEqual(field(challenge, 'flows'), [{ stages: ['m.login.password'] }]);
    const wrong = await call(node, 'DELETE', `/devices/${otherId}`, { auth: passwordAuth('dmitri', 'nope', field(challenge, 'session')) }, user.accessToken);
    assert.equal(wrong.status, 401);
    assert.equal(field(wrong, 'errcode'), 'M_FORBIDDEN');
    // A session authorised for this device cannot delete another.
    const elsewhere = await call(node, 'DELETE', `/devices/${user.deviceId}`, { auth: passwordAuth('dmitri', user.password, field(challenge, 'session')) }, user.accessToken);
    expectMatrixError(elsewhere, 403, 'M_FORBIDDEN');
    const done = await call(node, 'DELETE', `/devices/${otherId}`, { auth: passwordAuth('dmitri', user.password, field(challenge, 'session')) }, user.accessToken);
    expectSpecResponse(done, 'deleteDevice');
    assert.equal(done.status, 200, done.text);
    expectMatrixError(await call(node, 'GET', '/account/whoami', undefined, field(other, 'access_token')), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await call(node, 'GET', `/devices/${otherId}`, undefined, user.accessToken), 404, 'M_NOT_FOUND');
  });

  test('POST /delete_devices deletes several devices behind UIA', async () => {
    const user = await registerUser(node, 'delia');
    const a = await passwordLogin(node, 'delia', user.password);
    const b = await passwordLogin(node, 'delia', user.password);
    const ids = [field<string>(a, 'device_id'), field<string>(b, 'device_id')];
    const challenge = await call(node, 'POST', '/delete_devices', { devices: ids }, user.accessToken);
    expectSpecResponse(challenge, 'deleteDevices');
    assert.equal(challenge.status, 401);
    const done = await call(node, 'POST', '/delete_devices', { devices: ids, auth: passwordAuth(user.userId, user.password, field(challenge, 'session')) }, user.accessToken);
    expectSpecResponse(done, 'deleteDevices');
    assert.equal(done.status, 200, done.text);
    const list = await call(node, 'GET', '/devices', undefined, user.accessToken);
    assert.deepEqual(field<Array<{ device_id: string }>>(list, 'devices').map((d) => d.device_id), [user.deviceId]);
    expectMatrixError(await call(node, 'POST', '/delete_devices', { devices: 'ABC' }, user.accessToken), 400, 'M_BAD_JSON');
  });
});

describe('§ Account management', () => {
  test('password change: UIA with the old password; other devices are logged out unless logout_devices is false', async () => {
    const user = await registerUser(node, 'paula');
    const other = await passwordLogin(node, 'paula', user.password);
    const challenge = await call(node, 'POST', '/account/password', { new_password: 'second-pw' }, user.accessToken);
    expectSpecResponse(challenge, 'changePassword');
    assert.equal(challenge.status, 401);
    const changed = await call(node, 'POST', '/account/password', { new_password: 'second-pw', auth: passwordAuth('paula', user.password, field(challenge, 'session')) }, user.accessToken);
    expectSpecResponse(changed, 'changePassword');
    assert.equal(changed.status, 200, changed.text);
    expectMatrixError(await call(node, 'GET', '/account/whoami', undefined, field(other, 'access_token')), 401, 'M_UNKNOWN_TOKEN');
    assert.equal((await call(node, 'GET', '/account/whoami', undefined, user.accessToken)).status, 200, 'the requester keeps its session');
    expectMatrixError(await passwordLogin(node, 'paula', user.password), 403, 'M_FORBIDDEN');
    const kept = await passwordLogin(node, 'paula', 'second-pw');
    assert.equal(kept.status, 200);

    const c2 = await call(node, 'POST', '/account/password', { new_password: 'third-pw', logout_devices: false }, user.accessToken);
    const changedAgain = await call(
      node,
      'POST',
      '/account/password',
      { new_password: 'third-pw', logout_devices: false, auth: passwordAuth('paula', 'second-pw', field(c2, 'session')) },
      user.accessToken,
    );
    assert.equal(changedAgain.status, 200, changedAgain.text);
    assert.equal((await call(node, 'GET', '/account/whoami', undefined, field(kept, 'access_token'))).status, 200);
  });

  test('deactivation: UIA, then no login, no sessions, and the user ID stays taken', async () => {
    const user = await registerUser(node, 'dexter');
    const challenge = await call(node, 'POST', '/account/deactivate', {}, user.accessToken);
    expectSpecResponse(challenge, 'deactivateAccount');
    assert.equal(challenge.status, 401);
    const done = await call(node, 'POST', '/account/deactivate', { auth: passwordAuth('dexter', user.password, field(challenge, 'session')) }, user.accessToken);
    expectSpecResponse(done, 'deactivateAccount');
    assert.deepEqual(done.body, { id_server_unbind_result: 'success' });
    expectMatrixError(await call(node, 'GET', '/account/whoami', undefined, user.accessToken), 401, 'M_UNKNOWN_TOKEN');
    const login = await passwordLogin(node, 'dexter', user.password);
    expectSpecResponse(login, 'login');
    expectMatrixError(login, 403, 'M_USER_DEACTIVATED');
    expectMatrixError(await request(v3(node, '/register/available?username=dexter')), 400, 'M_USER_IN_USE');
  });
});

describe('§ Rate limiting', () => {
  test('over the login limit: 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After', async () => {
    const user = await registerUser(strict, 'rita');
    assert.equal((await passwordLogin(strict, 'rita', user.password)).status, 200);
    assert.equal((await passwordLogin(strict, 'rita', user.password)).status, 200);
    const limited = await passwordLogin(strict, 'rita', user.password);
    expectSpecResponse(limited, 'login');
    expectMatrixError(limited, 429, 'M_LIMIT_EXCEEDED');
    const retryAfterMs = field<number>(limited, 'retry_after_ms');
    assert.ok(Number.isInteger(retryAfterMs) && retryAfterMs > 0, String(retryAfterMs));
    assert.equal(limited.headers.get('retry-after'), String(Math.ceil(retryAfterMs / 1000)));
  });
});
