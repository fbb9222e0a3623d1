import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../rooms/json.ts';
import { checkIdTokenClaims, decodeJws, IdTokenError, verifyJwsSignature } from './id-token.ts';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function jws(header: JsonObject, payload: JsonObject, signer: (input: Buffer) => Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const jwk = (key: KeyObject, kid: string): JsonObject => ({ ...(key.export({ format: 'jwk' }) as JsonObject), kid });
const KEYS = [jwk(rsa.publicKey, 'rsa1'), jwk(ec.publicKey, 'ec1'), jwk(ed.publicKey, 'ed1')];

const NOW = 1_700_000_000;
const CLAIMS: JsonObject = { iss: 'https://idp.example', sub: 'u1', aud: 'stoa', exp: NOW + 300, iat: NOW, nonce: 'n0nce' };
const EXPECT = { issuer: 'https://idp.example', clientId: 'stoa', nonce: 'n0nce', nowSeconds: NOW };

describe('OpenID Connect Core § 3.1.3.7 ID token validation', () => {
  test('RS256, ES256, EdDSA and HS256 signatures verify; a flipped byte does not', () => {
    const tokens = [
      jws({ alg: 'RS256', kid: 'rsa1' }, CLAIMS, (i) => sign('sha256', i, rsa.privateKey)),
      jws({ alg: 'ES256', kid: 'ec1' }, CLAIMS, (i) => sign('sha256', i, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' })),
      jws({ alg: 'EdDSA', kid: 'ed1' }, CLAIMS, (i) => sign(null, i, ed.privateKey)),
      jws({ alg: 'HS256' }, CLAIMS, (i) => createHmac('sha256', 'secret').update(i).digest()),
    ];
    for (const token of tokens) {
      verifyJwsSignature(decodeJws(token), KEYS, 'secret');
      const tampered = decodeJws(token);
      tampered.signature[0] = (tampered.signature[0] ?? 0) ^ 1;
      assert.throws(() => verifyJwsSignature(tampered, KEYS, 'secret'), IdTokenError);
    }
  });

  test('alg none, an unknown kid, and a key of the wrong type are refused', () => {
    assert.throws(() => verifyJwsSignature(decodeJws(`${b64({ alg: 'none' })}.${b64(CLAIMS)}.`), KEYS, 's'), /unsupported alg/);
    const token = jws({ alg: 'RS256', kid: 'other' }, CLAIMS, (i) => sign('sha256', i, rsa.privateKey));
    assert.throws(() => verifyJwsSignature(decodeJws(token), KEYS, 's'), /no key other/);
    const wrongKey = jws({ alg: 'RS256', kid: 'rsa1' }, CLAIMS, (i) => sign('sha256', i, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey));
    assert.throws(() => verifyJwsSignature(decodeJws(wrongKey), KEYS, 's'), /bad signature/);
    assert.throws(() => decodeJws('a.b'), IdTokenError);
  });

  test('iss, aud, azp, exp, iat, nonce and sub are checked', () => {
    assert.equal(checkIdTokenClaims(CLAIMS, EXPECT)['sub'], 'u1');
    assert.doesNotThrow(() => checkIdTokenClaims({ ...CLAIMS, aud: ['stoa', 'other'], azp: 'stoa' }, EXPECT));
    const bad: Array<[JsonObject, RegExp]> = [
      [{ ...CLAIMS, iss: 'https://evil.example' }, /iss/],
      [{ ...CLAIMS, aud: 'other' }, /aud/],
      [{ ...CLAIMS, aud: ['stoa', 'other'] }, /azp/],
      [{ ...CLAIMS, exp: NOW - 120 }, /expired/],
      [{ ...CLAIMS, iat: NOW + 3600 }, /iat/],
      [{ ...CLAIMS, nonce: 'other' }, /nonce/],
      [{ ...CLAIMS, sub: '' }, /sub/],
    ];
    for (const [claims, message] of bad) assert.throws(() => checkIdTokenClaims(claims, EXPECT), message);
  });
});
