// The authentication types Stoa offers in user-interactive auth (client-server API
// § "Authentication types"): m.login.dummy, m.login.password and m.login.registration_token.

import { badJson, forbidden, limitExceeded, MatrixError } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { isValidOpaqueId } from '../../rooms/identifiers.ts';
import type { AccountsRepository } from '../../storage/index.ts';
import type { TokenBucketRateLimiter } from '../rate-limit/token-bucket.ts';
import { decoyHash, verifyPassword } from './password-hash.ts';
import type { UiaStage, UiaStageContext, UiaStageOutcome } from './uia.ts';
import { identifiedUser } from './user-identifier.ts';

export const DUMMY = 'm.login.dummy';
export const PASSWORD = 'm.login.password';
export const REGISTRATION_TOKEN = 'm.login.registration_token';
export const SSO = 'm.login.sso';

/** Session data key: the registration token a m.login.registration_token stage accepted. */
export const REGISTRATION_TOKEN_KEY = 'registration_token';

/** § "Dummy Auth": always succeeds. */
export const dummyStage: UiaStage = {
  type: DUMMY,
  attempt: () => Promise.resolve({ ok: true }),
};

/** Failed password attempts, limited per account (config `rate_limits.failed_login`). */
export interface FailedLoginLimit {
  readonly limiter: TokenBucketRateLimiter;
  readonly bucket: string;
}

/**
 * Checks a user's password, spending a failed-login token on each wrong guess. Returns a
 * MatrixError (403 M_FORBIDDEN, or 429 once the account's failures exceed the limit).
 */
export async function checkPassword(
  accounts: AccountsRepository,
  userId: string,
  password: string,
  failedLogins: FailedLoginLimit | undefined,
): Promise<MatrixError | undefined> {
  if (failedLogins !== undefined) {
    const wait = failedLogins.limiter.peek(failedLogins.bucket, userId);
    if (wait > 0) return limitExceeded(wait, 'Too many failed attempts for this account');
  }
  const user = await accounts.findUser(userId);
  // A missing user or password still costs one hash, so timing does not tell them apart.
  const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
  if (ok && user !== undefined && user.passwordHash !== null && !user.deactivated) return undefined;
  failedLogins?.limiter.consume(failedLogins.bucket, userId);
  if (ok && user?.deactivated === true) return new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
  return forbidden('Invalid username or password');
}

/**
 * § "Password-based": the `identifier` (or deprecated `user`) and `password` of the user the
 * session is for. With an authenticated requester, the password must be the requester's.
 */
export function passwordStage(options: {
  readonly accounts: AccountsRepository;
  readonly serverName: string;
  readonly failedLogins?: FailedLoginLimit | undefined;
  /** `password_config.enabled`; false refuses every attempt. Default true. */
  readonly enabled?: boolean;
}): UiaStage {
  return {
    type: PASSWORD,
    async attempt(auth: JsonObject, context: UiaStageContext): Promise<UiaStageOutcome> {
      if (options.enabled === false) return { ok: false, error: forbidden('Password authentication is disabled on this server') };
      const password = auth['password'];
      if (typeof password !== 'string') return { ok: false, error: badJson('auth.password must be a string') };
      const identified = identifiedUser(auth, options.serverName);
      if (!identified.ok) return identified;
      if (context.userId !== undefined && identified.userId !== context.userId) {
        return { ok: false, error: forbidden('The password given is not that of the authenticated user') };
      }
      const failure = await checkPassword(options.accounts, identified.userId, password, options.failedLogins);
      return failure === undefined ? { ok: true, userId: identified.userId } : { ok: false, error: failure };
    },
  };
}

/**
 * § "SSO during User-Interactive Authentication": done out of band, in the browser through
 * /auth/m.login.sso/fallback/web; submitting it as an auth dict proves nothing.
 */
export const ssoStage: UiaStage = {
  type: SSO,
  attempt: () =>
    Promise.resolve({ ok: false, error: new MatrixError(401, 'M_UNAUTHORIZED', 'Complete single sign-on in the browser (the m.login.sso fallback), then retry with the session only') }),
};

/**
 * § "Token-authenticated registration": a token the administrator handed out. The stage
 * checks it; registration counts the use, in the transaction that creates the account.
 */
export function registrationTokenStage(options: { readonly accounts: AccountsRepository; readonly clock: () => number }): UiaStage {
  return {
    type: REGISTRATION_TOKEN,
    async attempt(auth: JsonObject): Promise<UiaStageOutcome> {
      const token = auth['token'];
      if (typeof token !== 'string') return { ok: false, error: badJson('auth.token must be a string') };
      const usable = isValidRegistrationToken(token) && (await options.accounts.registrationTokenUsable(token, options.clock()));
      if (!usable) return { ok: false, error: forbidden('Invalid registration token') };
      return { ok: true, data: { [REGISTRATION_TOKEN_KEY]: token } };
    },
  };
}

/** § "Token-authenticated registration": opaque identifier grammar, at most 64 characters. */
export function isValidRegistrationToken(token: string): boolean {
  return isValidOpaqueId(token, 64);
}
