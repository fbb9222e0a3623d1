// server-server § "Request Authentication", the receiving side.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keyring, MemoryServerKeyCache } from '../../crypto/keyring.ts';
import { generateSigningKey } from '../../crypto/signing-key.ts';
import { signRequest } from '../../crypto/x-matrix.ts';
import type { FederationRequest } from '../../http/define-endpoint.ts';
import { authenticateXMatrix, XMatrixAuthenticator } from './x-matrix-auth.ts';

const NOW = 1_700_000_000_000;
const us = 'us.example';
const current = generateSigningKey('cur');
const old = generateSigningKey('old');
const cache = new MemoryServerKeyCache();
await cache.upsert([
  { serverName: 'them.example', keyId: current.keyId, publicKey: current.publicKeyBase64, validUntilTs: NOW + 3_600_000, expiredTs: null, fetchedTs: NOW, keyJson: '{}' },
  { serverName: 'them.example', keyId: old.keyId, publicKey: old.publicKeyBase64, validUntilTs: null, expiredTs: NOW + 3_600_000, fetchedTs: NOW, keyJson: '{}' },
]);
const keyring = new Keyring({ cache, fetchers: [], now: () => NOW });
const options = { serverName: us, keyring, now: () => NOW };

function request(authorization: string[], content: FederationRequest['content'] = { a: 1 }): FederationRequest {
  return { method: 'PUT', uri: '/_matrix/federation/v1/send/1', authorization, content, rawBody: undefined };
}
const sign = (key = current, destination = us, origin = 'them.example'): string =>
  signRequest({ method: 'PUT', uri: '/_matrix/federation/v1/send/1', origin, destination, content: { a: 1 } }, key);

describe('X-Matrix request authentication (receiving)', () => {
  test('a good signature authenticates the origin', async () => {
    assert.deepEqual(await new XMatrixAuthenticator(options).authenticate(request([sign()])), { serverName: 'them.example' });
  });

  test('other Authorization schemes are ignored; several X-Matrix headers: one good signature is enough', async () => {
    const bad = sign(generateSigningKey('cur'));
    assert.equal(await authenticateXMatrix(request(['Bearer abc', bad, sign()]), options), 'them.example');
  });

  const rejections: Array<[string, () => FederationRequest]> = [
    ['no header', () => request([])],
    ['only a bearer token', () => request(['Bearer abc'])],
    ['malformed header', () => request(['X-Matrix origin="them.example"'])],
    ['another destination', () => request([sign(current, 'other.example')])],
    ['headers naming different origins', () => request([sign(), sign(current, us, 'else.example')])],
    ['tampered body', () => request([sign()], { a: 2 })],
    ['an unknown key', () => request([sign(generateSigningKey('nope'))])],
    ['a key from old_verify_keys (events only)', () => request([sign(old)])],
  ];
  for (const [what, make] of rejections) {
    test(`401 M_UNAUTHORIZED for ${what}`, async () => {
      await assert.rejects(authenticateXMatrix(make(), options), { status: 401, errcode: 'M_UNAUTHORIZED' });
    });
  }

  test('a key past its validity does not authenticate a request', async () => {
    await assert.rejects(authenticateXMatrix(request([sign()]), { ...options, now: () => NOW + 7_200_000 }), { status: 401 });
  });
});
