// One OpenID Connect provider from the server's side: discovery, the authorization request
// (code flow with PKCE S256, state and nonce), the token exchange, ID token validation and
// the userinfo endpoint. Discovery and the JWKS are fetched on first use and cached, so a
// provider that is down at startup does not stop Stoa; the JWKS is fetched again once when
// a token names a key it lacks (the provider rotated its keys).
//
// Provider URLs are the administrator's, so loopback and private addresses are allowed.

import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { SsoProviderConfig } from '../../config/types.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { checkIdTokenClaims, decodeJws, IdTokenError, verifyJwsSignature } from './id-token.ts';

/** The provider could not be reached or answered something unusable. */
export class OidcProviderError extends Error {
  override readonly name = 'OidcProviderError';
}

interface ProviderMetadata {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string | undefined;
  readonly userinfoEndpoint: string | undefined;
}

export interface AuthorizationRequest {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
}

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** PKCE (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkceVerifier(): string {
  return randomBytes(32).toString('base64url');
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export class OidcClient {
  readonly config: SsoProviderConfig;
  readonly #clock: () => number;
  #metadata: Promise<ProviderMetadata> | undefined;
  #jwks: Promise<JsonObject[]> | undefined;

  constructor(config: SsoProviderConfig, clock: () => number) {
    this.config = config;
    this.#clock = clock;
  }

  /** The URL the browser is sent to (OIDC Core § 3.1.2.1). */
  async authorizationUrl(req: AuthorizationRequest): Promise<string> {
    const metadata = await this.#discover();
    const url = new URL(metadata.authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.client_id);
    url.searchParams.set('redirect_uri', req.redirectUri);
    url.searchParams.set('scope', this.config.scopes.join(' '));
    url.searchParams.set('state', req.state);
    url.searchParams.set('nonce', req.nonce);
    url.searchParams.set('code_challenge', pkceChallenge(req.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.href;
  }

  /**
   * Exchanges the authorization code and returns the user's claims: the validated ID token's,
   * merged with the userinfo endpoint's when the ID token has none beyond the basics or the
   * config asks for userinfo. `sub` is always the ID token's.
   */
  async claimsForCode(code: string, req: Pick<AuthorizationRequest, 'nonce' | 'codeVerifier' | 'redirectUri'>): Promise<JsonObject> {
    const metadata = await this.#discover();
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: req.redirectUri, code_verifier: req.codeVerifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.config.client_auth_method === 'client_secret_post') {
      form.set('client_id', this.config.client_id);
      form.set('client_secret', this.config.client_secret);
    } else {
      // RFC 6749 § 2.3.1: both parts form-urlencoded before base64.
      const credentials = `${encodeURIComponent(this.config.client_id)}:${encodeURIComponent(this.config.client_secret)}`;
      headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const tokens = await this.#fetchJson(metadata.tokenEndpoint, { method: 'POST', headers, body: form.toString() }, 'token endpoint');
    const idToken = tokens['id_token'];
    if (typeof idToken !== 'string') throw new OidcProviderError('the token endpoint returned no id_token');
    const claims = await this.#validateIdToken(idToken, metadata, req.nonce);

    const accessToken = tokens['access_token'];
    const wantsUserinfo = this.config.user_profile_method === 'userinfo_endpoint' || !hasProfileClaims(claims);
    if (!wantsUserinfo || metadata.userinfoEndpoint === undefined || typeof accessToken !== 'string') return claims;
    const userinfo = await this.#fetchJson(metadata.userinfoEndpoint, { method: 'GET', headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } }, 'userinfo endpoint');
    // OIDC Core § 5.3.2: a userinfo `sub` that differs from the ID token's must not be used.
    if (userinfo['sub'] !== claims['sub']) throw new OidcProviderError('the userinfo sub differs from the ID token sub');
    return { ...userinfo, ...claims };
  }

  async #validateIdToken(idToken: string, metadata: ProviderMetadata, nonce: string): Promise<JsonObject> {
    try {
      const jws = decodeJws(idToken);
      const alg = jws.header['alg'];
      if (typeof alg === 'string' && !alg.startsWith('HS')) {
        let keys = await this.#keys(metadata);
        const kid = jws.header['kid'];
        if (kid !== undefined && !keys.some((k) => k['kid'] === kid)) {
          this.#jwks = undefined;
          keys = await this.#keys(metadata);
        }
        verifyJwsSignature(jws, keys, this.config.client_secret);
      } else {
        verifyJwsSignature(jws, [], this.config.client_secret);
      }
      return checkIdTokenClaims(jws.payload, { issuer: metadata.issuer, clientId: this.config.client_id, nonce, nowSeconds: Math.floor(this.#clock() / 1000) });
    } catch (error) {
      if (error instanceof IdTokenError) throw new OidcProviderError(`invalid ID token: ${error.message}`);
      throw error;
    }
  }

  #keys(metadata: ProviderMetadata): Promise<JsonObject[]> {
    if (metadata.jwksUri === undefined) return Promise.reject(new OidcProviderError('the provider publishes no jwks_uri'));
    const jwksUri = metadata.jwksUri;
    this.#jwks ??= this.#fetchJson(jwksUri, { method: 'GET', headers: { accept: 'application/json' } }, 'JWKS').then((jwks) => {
      const keys = jwks['keys'];
      if (!Array.isArray(keys)) throw new OidcProviderError('the JWKS has no keys');
      return keys.filter(isJsonObject);
    });
    this.#jwks.catch(() => (this.#jwks = undefined));
    return this.#jwks;
  }

  #discover(): Promise<ProviderMetadata> {
    this.#metadata ??= this.#fetchMetadata();
    // A failed discovery is retried on the next login rather than cached.
    this.#metadata.catch(() => (this.#metadata = undefined));
    return this.#metadata;
  }

  async #fetchMetadata(): Promise<ProviderMetadata> {
    const issuer = this.config.issuer;
    // OIDC Discovery § 4: the path is appended to the issuer, without a doubled slash.
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await this.#fetchJson(url, { method: 'GET', headers: { accept: 'application/json' } }, 'discovery document');
    // § 4.3: the issuer in the document must be exactly the configured one.
    if (doc['issuer'] !== issuer) throw new OidcProviderError(`the discovery document's issuer ${JSON.stringify(doc['issuer'])} is not ${issuer}`);
    const authorizationEndpoint = httpUrl(doc['authorization_endpoint']);
    const tokenEndpoint = httpUrl(doc['token_endpoint']);
    if (authorizationEndpoint === undefined || tokenEndpoint === undefined) throw new OidcProviderError('the discovery document lacks the authorization or token endpoint');
    const methods = doc['code_challenge_methods_supported'];
    if (Array.isArray(methods) && !methods.includes('S256')) throw new OidcProviderError('the provider does not support PKCE S256');
    return { issuer, authorizationEndpoint, tokenEndpoint, jwksUri: httpUrl(doc['jwks_uri']), userinfoEndpoint: httpUrl(doc['userinfo_endpoint']) };
  }

  async #fetchJson(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }, what: string): Promise<JsonObject> {
    let status: number;
    let text: string;
    try {
      const response = await request(url, { ...init, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
      status = response.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          response.body.destroy();
          throw new OidcProviderError(`the ${what} answered more than ${MAX_RESPONSE_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if (error instanceof OidcProviderError) throw error;
      throw new OidcProviderError(`the ${what} (${url}) could not be reached: ${(error as Error).message}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status < 200 || status >= 300) {
      const detail = isJsonObject(body) && typeof body['error'] === 'string' ? `: ${body['error']}` : '';
      throw new OidcProviderError(`the ${what} answered HTTP ${status}${detail}`);
    }
    if (!isJsonObject(body)) throw new OidcProviderError(`the ${what} did not answer a JSON object`);
    return body;
  }
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  const protocol = new URL(value).protocol;
  return protocol === 'https:' || protocol === 'http:' ? value : undefined;
}

/** Whether an ID token carries more than the registered claims (OIDC Core § 2). */
function hasProfileClaims(claims: JsonObject): boolean {
  const registered = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'at_hash', 'c_hash', 'sid', 'jti']);
  return Object.keys(claims).some((key) => !registered.has(key));
}
