// ID token validation (OpenID Connect Core 1.0 § 3.1.3.7): the JWS signature against the
// provider's JWKS (or the client secret for HS*), then iss, aud/azp, exp, iat and nonce.
// node:crypto verifies; no JOSE library, because the algorithms are few and fixed.

import { createHmac, createPublicKey, timingSafeEqual, verify, constants, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';

export class IdTokenError extends Error {
  override readonly name = 'IdTokenError';
}

/** Clock skew tolerated between us and the provider, in seconds. */
const LEEWAY_SECONDS = 60;

interface Algorithm {
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  readonly kty: 'RSA' | 'EC' | 'OKP' | 'oct';
  readonly pss?: boolean;
}

const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  PS384: { hash: 'sha384', kty: 'RSA', pss: true },
  PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC' },
  ES384: { hash: 'sha384', kty: 'EC' },
  ES512: { hash: 'sha512', kty: 'EC' },
  EdDSA: { hash: null, kty: 'OKP' },
  Ed25519: { hash: null, kty: 'OKP' },
  HS256: { hash: 'sha256', kty: 'oct' },
  HS384: { hash: 'sha384', kty: 'oct' },
  HS512: { hash: 'sha512', kty: 'oct' },
};

export interface DecodedJws {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

export function decodeJws(token: string): DecodedJws {
  const parts = token.split('.');
  if (parts.length !== 3) throw new IdTokenError('not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = parseSegment(h, 'header');
  const payload = parseSegment(p, 'payload');
  return { header, payload, signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature: Buffer.from(s, 'base64url') };
}

function parseSegment(segment: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new IdTokenError(`the ${what} is not base64url JSON`);
  }
  if (!isJsonObject(value)) throw new IdTokenError(`the ${what} is not a JSON object`);
  return value;
}

/** Verifies the signature; `keys` are the provider's JWKS `keys`, `clientSecret` for HS*. */
export function verifyJwsSignature(jws: DecodedJws, keys: readonly JsonObject[], clientSecret: string): void {
  const alg = jws.header['alg'];
  if (typeof alg !== 'string') throw new IdTokenError('the header has no alg');
  const algorithm = ALGORITHMS[alg];
  // `none` and anything unknown are refused: an unsigned token proves nothing.
  if (algorithm === undefined) throw new IdTokenError(`unsupported alg ${alg}`);
  if (algorithm.kty === 'oct') {
    const expected = createHmac(algorithm.hash ?? 'sha256', clientSecret).update(jws.signingInput).digest();
    if (expected.length !== jws.signature.length || !timingSafeEqual(expected, jws.signature)) throw new IdTokenError('bad signature');
    return;
  }
  const kid = jws.header['kid'];
  const candidates = keys.filter(
    (k) => k['kty'] === algorithm.kty && (kid === undefined || k['kid'] === kid) && (k['use'] === undefined || k['use'] === 'sig') && (k['alg'] === undefined || k['alg'] === alg),
  );
  if (candidates.length === 0) throw new IdTokenError(kid === undefined ? `no ${algorithm.kty} key in the JWKS` : `no key ${String(kid)} in the JWKS`);
  for (const jwk of candidates) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      continue;
    }
    const ok = verify(
      algorithm.hash,
      jws.signingInput,
      {
        key,
        ...(algorithm.kty === 'EC' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
        ...(algorithm.pss === true ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : {}),
      },
      jws.signature,
    );
    if (ok) return;
  }
  throw new IdTokenError('bad signature');
}

export interface IdTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  readonly nonce: string;
  /** Seconds since the epoch. */
  readonly nowSeconds: number;
}

/** Checks the claims of a signature-verified ID token; returns them. */
export function checkIdTokenClaims(claims: JsonObject, expected: IdTokenExpectations): JsonObject {
  if (claims['iss'] !== expected.issuer) throw new IdTokenError(`iss is ${JSON.stringify(claims['iss'])}, expected ${expected.issuer}`);
  const aud = claims['aud'];
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(expected.clientId)) throw new IdTokenError('aud does not name this client');
  // § 3.1.3.7 items 4-5: with several audiences, azp must be present and be us.
  const azp = claims['azp'];
  if ((audiences.length > 1 || azp !== undefined) && azp !== expected.clientId) throw new IdTokenError('azp is not this client');
  const exp = claims['exp'];
  if (typeof exp !== 'number' || exp + LEEWAY_SECONDS <= expected.nowSeconds) throw new IdTokenError('the token has expired');
  const iat = claims['iat'];
  if (typeof iat !== 'number' || iat - LEEWAY_SECONDS > expected.nowSeconds) throw new IdTokenError('iat is missing or in the future');
  if (claims['nonce'] !== expected.nonce) throw new IdTokenError('nonce does not match');
  if (typeof claims['sub'] !== 'string' || claims['sub'] === '') throw new IdTokenError('sub is missing');
  return claims;
}
