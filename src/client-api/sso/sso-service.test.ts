import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCookie, withLoginToken } from './sso-service.ts';

test('client-server-api § Client login via SSO, Handling the callback: loginToken replaces any loginToken already in redirectUrl', () => {
  assert.equal(withLoginToken('https://app.example/cb', 't1'), 'https://app.example/cb?loginToken=t1');
  assert.equal(withLoginToken('https://app.example/cb?a=1&loginToken=evil&loginToken=x#f', 't 2'), 'https://app.example/cb?a=1&loginToken=t+2#f');
});

test('the session cookie is read by exact name', () => {
  assert.equal(readCookie('a=1; stoa_oidc_session=abc; b=2', 'stoa_oidc_session'), 'abc');
  assert.equal(readCookie('xstoa_oidc_session=abc', 'stoa_oidc_session'), undefined);
  assert.equal(readCookie(undefined, 'stoa_oidc_session'), undefined);
});
