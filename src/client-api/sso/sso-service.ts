// Single sign-on (client-server API § "Client login via SSO") with OpenID Connect providers:
//
//   GET /login/sso/redirect[/{idpId}]?redirectUrl=   → startLogin: a pending row keyed by a
//       fresh `state` (PKCE verifier, nonce, redirectUrl), a cookie holding the same state,
//       and a 302 to the provider.
//   GET /_synapse/client/oidc/callback?code=&state=   → finish: the cookie must match the
//       state (§ "Security considerations" 2: unsolicited attempts are refused), the row is
//       spent, the code exchanged and the ID token checked; the (provider, subject) pair
//       names the user — provisioned on its first login — and the browser goes to
//       redirectUrl with a one-use `loginToken`, which POST /login m.login.token spends.
//
// Login tokens go only to whitelisted clients (§ "Security considerations" 1): the redirect
// endpoint refuses any other redirectUrl before the user is sent anywhere.

import { randomBytes } from 'node:crypto';
import type { SsoProviderConfig, StoaConfig } from '../../config/types.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { isValidUserLocalpart, utf8ByteLength } from '../../rooms/identifiers.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { SsoRepository } from '../../storage/sso-repository.ts';
import type { AccountService } from '../auth/account-service.ts';
import { OidcClient, OidcProviderError, pkceVerifier } from './oidc-client.ts';
import { mapToLocalpart, renderTemplate } from './user-mapping.ts';

export const CALLBACK_PATH = '/_synapse/client/oidc/callback';
/** Holds the `state` of the browser's sign-on in progress; scoped to the callback path. */
export const SESSION_COOKIE = 'stoa_oidc_session';
/** How long a user may take at the provider. */
export const PENDING_LIFETIME_MS = 10 * 60_000;
/** Localparts tried with a number appended when the mapped one is taken. */
const MAX_LOCALPART_SUFFIX = 1000;
/** Synapse's limit on display names. */
const MAX_DISPLAYNAME_LENGTH = 256;

/** A sign-on that cannot go on; shown to the user as a page (the browser, not a client, is calling). */
export class SsoFailure extends Error {
  override readonly name = 'SsoFailure';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export type SsoOutcome =
  | { readonly kind: 'login'; readonly userId: string; readonly location: string }
  | { readonly kind: 'uia'; readonly userId: string; readonly uiaSessionId: string };

/** Sets the display name of a newly provisioned user. */
export type DisplayNameSetter = (userId: string, displayName: string) => Promise<void>;

export interface SsoServiceOptions {
  readonly config: Pick<StoaConfig, 'server_name' | 'public_baseurl' | 'sso'>;
  readonly db: StoaDatabase;
  readonly accounts: Pick<AccountService, 'accounts' | 'register' | 'createLoginToken'>;
  readonly setDisplayName: DisplayNameSetter;
  readonly clock: () => number;
  readonly logger: Logger;
}

export class SsoService {
  readonly callbackUrl: string;
  readonly #clients: ReadonlyMap<string, OidcClient>;
  readonly #whitelist: readonly string[];
  readonly #serverName: string;
  readonly #repo: SsoRepository;
  readonly #accounts: SsoServiceOptions['accounts'];
  readonly #setDisplayName: DisplayNameSetter;
  readonly #clock: () => number;
  readonly #logger: Logger;

  constructor(options: SsoServiceOptions) {
    this.callbackUrl = new URL(CALLBACK_PATH.slice(1), options.config.public_baseurl).href;
    this.#clients = new Map(options.config.sso.providers.map((p) => [p.id, new OidcClient(p, options.clock)]));
    this.#whitelist = options.config.sso.client_whitelist;
    this.#serverName = options.config.server_name;
    this.#repo = new SsoRepository(options.db.kysely);
    this.#accounts = options.accounts;
    this.#setDisplayName = options.setDisplayName;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  get providers(): SsoProviderConfig[] {
    return [...this.#clients.values()].map((c) => c.config);
  }

  hasProvider(idpId: string): boolean {
    return this.#clients.has(idpId);
  }

  /**
   * Whether login tokens may be sent to `redirectUrl`: an http(s) URL whose normalised form
   * (dot segments resolved, so `/app/../evil` is `/evil`) starts with a `sso.client_whitelist` prefix.
   */
  isAllowedRedirect(redirectUrl: string): boolean {
    if (!URL.canParse(redirectUrl)) return false;
    const url = new URL(redirectUrl);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return false;
    return this.#whitelist.some((prefix) => url.href.startsWith(prefix));
  }

  /** Starts a login at `idpId`: the provider URL to redirect to, and the state for the cookie. */
  startLogin(idpId: string, redirectUrl: string): Promise<{ location: string; state: string }> {
    return this.#start(idpId, { redirectUrl, uiaSessionId: null });
  }

  /** Starts re-authentication for a user-interactive auth session (the m.login.sso fallback). */
  startUserInteractiveAuth(idpId: string, uiaSessionId: string): Promise<{ location: string; state: string }> {
    return this.#start(idpId, { redirectUrl: null, uiaSessionId });
  }

  /** The providers `userId` has signed in with, in config order. */
  async linkedProviders(userId: string): Promise<string[]> {
    const linked = new Set(await this.#repo.linkedProviders(userId));
    return this.providers.map((p) => p.id).filter((id) => linked.has(id));
  }

  /**
   * Handles the provider's redirect back. `cookieState` is the browser's cookie; the query's
   * `state` must equal it. Throws SsoFailure for everything the user should be told.
   */
  async finish(input: { state: string | null; cookieState: string | undefined; code: string | null; error: string | null; errorDescription: string | null }): Promise<SsoOutcome> {
    if (input.state === null || input.state === '') throw new SsoFailure(400, 'The identity provider sent no state.');
    if (input.cookieState !== input.state) {
      throw new SsoFailure(400, 'This sign-in was not started from this browser, or its session cookie is gone. Start again from your Matrix client.');
    }
    const now = this.#clock();
    const pending = await this.#repo.consumePending(input.state, now);
    if (pending === undefined) throw new SsoFailure(400, 'This sign-in is unknown, already used or expired. Start again from your Matrix client.');
    if (input.error !== null) {
      const detail = input.errorDescription === null ? input.error : `${input.error}: ${input.errorDescription}`;
      throw new SsoFailure(403, `The identity provider did not sign you in (${detail}).`);
    }
    if (input.code === null || input.code === '') throw new SsoFailure(400, 'The identity provider sent no authorization code.');
    const client = this.#clients.get(pending.idpId);
    if (client === undefined) throw new SsoFailure(400, 'This identity provider is no longer configured.');

    let claims: JsonObject;
    try {
      claims = await client.claimsForCode(input.code, { nonce: pending.nonce, codeVerifier: pending.codeVerifier, redirectUri: this.callbackUrl });
    } catch (error) {
      if (!(error instanceof OidcProviderError)) throw error;
      this.#logger.warn({ idp_id: pending.idpId, err: error }, 'single sign-on failed at the provider');
      throw new SsoFailure(502, 'The identity provider could not confirm who you are. Try again later.');
    }
    const subject = claims['sub'] as string;

    if (pending.uiaSessionId !== null) {
      const userId = await this.#repo.findLinkedUser(client.config.id, subject);
      if (userId === undefined) throw new SsoFailure(403, 'This identity provider account is not linked to a Matrix account.');
      return { kind: 'uia', userId, uiaSessionId: pending.uiaSessionId };
    }

    const userId = await this.#userFor(client.config, subject, claims);
    const user = await this.#accounts.accounts.findUser(userId);
    if (user === undefined || user.deactivated) throw new SsoFailure(403, 'This account has been deactivated.');
    const { token } = await this.#accounts.createLoginToken(userId);
    this.#logger.info({ idp_id: client.config.id, user_id: userId }, 'single sign-on login');
    return { kind: 'login', userId, location: withLoginToken(pending.redirectUrl ?? '', token) };
  }

  async #start(idpId: string, target: { redirectUrl: string | null; uiaSessionId: string | null }): Promise<{ location: string; state: string }> {
    const client = this.#clients.get(idpId);
    if (client === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown identity provider');
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    const codeVerifier = pkceVerifier();
    let location: string;
    try {
      location = await client.authorizationUrl({ state, nonce, codeVerifier, redirectUri: this.callbackUrl });
    } catch (error) {
      if (!(error instanceof OidcProviderError)) throw error;
      this.#logger.warn({ idp_id: idpId, err: error }, 'identity provider discovery failed');
      throw new MatrixError(502, 'M_UNKNOWN', 'The identity provider cannot be reached');
    }
    const now = this.#clock();
    await this.#repo.deleteExpiredPending(now);
    await this.#repo.insertPending({ state, idpId, nonce, codeVerifier, ...target, createdTs: now, expiresTs: now + PENDING_LIFETIME_MS });
    return { location, state };
  }

  /** The user `subject` signs in as, provisioning one on its first login. */
  async #userFor(provider: SsoProviderConfig, subject: string, claims: JsonObject): Promise<string> {
    const linked = await this.#repo.findLinkedUser(provider.id, subject);
    if (linked !== undefined) return linked;

    const rendered = renderTemplate(provider.user_mapping.localpart_template, claims);
    if (rendered === undefined || rendered === '') {
      throw new SsoFailure(403, 'The identity provider did not send the details needed to choose your Matrix ID.');
    }
    let base = mapToLocalpart(rendered);
    // All-digit localparts are what guest accounts get.
    if (/^[0-9]+$/.test(base)) base = `_${base}`;
    const now = this.#clock();
    for (let suffix = 0; suffix <= MAX_LOCALPART_SUFFIX; suffix++) {
      const localpart = suffix === 0 ? base : `${base}${suffix}`;
      const userId = `@${localpart}:${this.#serverName}`;
      if (!isValidUserLocalpart(localpart) || utf8ByteLength(userId) > 255) break;
      const existing = await this.#accounts.accounts.findUser(userId);
      if (existing !== undefined) {
        if (suffix === 0 && provider.allow_existing_users) return this.#linkOrExisting(provider.id, subject, userId, now);
        continue;
      }
      try {
        await this.#accounts.register({ userId, password: undefined });
      } catch (error) {
        if (error instanceof MatrixError && error.errcode === 'M_USER_IN_USE') continue;
        throw error;
      }
      const owner = await this.#linkOrExisting(provider.id, subject, userId, now);
      if (owner !== userId) {
        // Another first login of the same subject won the race; the account just made stays unused.
        this.#logger.warn({ idp_id: provider.id, user_id: userId, winner: owner }, 'concurrent first single sign-on; extra account left unused');
        return owner;
      }
      await this.#applyDisplayName(provider, claims, userId);
      this.#logger.info({ idp_id: provider.id, user_id: userId }, 'single sign-on provisioned a user');
      return userId;
    }
    throw new SsoFailure(409, 'No free Matrix ID could be made from your identity provider account.');
  }

  async #linkOrExisting(idpId: string, subject: string, userId: string, now: number): Promise<string> {
    if (await this.#repo.link({ idpId, subject, userId, createdTs: now })) return userId;
    return (await this.#repo.findLinkedUser(idpId, subject)) ?? userId;
  }

  async #applyDisplayName(provider: SsoProviderConfig, claims: JsonObject, userId: string): Promise<void> {
    const template = provider.user_mapping.display_name_template;
    if (template === undefined) return;
    const name = renderTemplate(template, claims);
    if (name === undefined || name === '') return;
    try {
      await this.#setDisplayName(userId, [...name].slice(0, MAX_DISPLAYNAME_LENGTH).join(''));
    } catch (error) {
      // The account works without it; the user can set a name themselves.
      this.#logger.warn({ err: error, user_id: userId }, 'could not set the single sign-on display name');
    }
  }
}

/** § "Handling the callback": `loginToken` added to redirectUrl, replacing any already there. */
export function withLoginToken(redirectUrl: string, token: string): string {
  const url = new URL(redirectUrl);
  url.searchParams.delete('loginToken');
  url.searchParams.append('loginToken', token);
  return url.href;
}

/** The value of cookie `name` in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
