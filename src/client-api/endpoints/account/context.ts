// What the account and device endpoints share: built once by src/client-api/auth/index.ts.

import type { AppServices } from '../../../appservice/service.ts';
import type { StoaConfig } from '../../../config/types.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { AccountService, IssuedSession } from '../../auth/account-service.ts';
import type { CachingAccessTokenVerifier } from '../../auth/access-token-verifier.ts';
import type { FailedLoginLimit } from '../../auth/uia-stages.ts';
import type { UserInteractiveAuth } from '../../auth/uia.ts';

export interface AccountContext {
  readonly config: StoaConfig;
  readonly service: AccountService;
  readonly uia: UserInteractiveAuth;
  readonly verifier: CachingAccessTokenVerifier;
  /** Unset when rate limits are off. */
  readonly failedLogins: FailedLoginLimit | undefined;
  readonly clock: () => number;
  /** Application services: m.login.application_service and exclusive user namespaces. */
  readonly appServices?: AppServices | undefined;
  /** Whether the user has signed in through single sign-on (unset when none is configured). */
  readonly ssoLinked?: (userId: string) => Promise<boolean>;
}

/** The body /login, /register and shared-secret registration answer with. */
export function sessionResponse(session: IssuedSession, serverName: string): JsonObject {
  const body: JsonObject = {
    user_id: session.userId,
    access_token: session.accessToken,
    device_id: session.deviceId,
    // Deprecated, but Synapse sends it and older clients read it.
    home_server: serverName,
  };
  if (session.refreshToken !== undefined) body['refresh_token'] = session.refreshToken;
  if (session.expiresInMs !== undefined) body['expires_in_ms'] = session.expiresInMs;
  return body;
}

/** Device IDs clients choose: any non-empty string up to 255 characters without NUL. */
export function isAcceptableDeviceId(deviceId: string): boolean {
  return deviceId.length >= 1 && deviceId.length <= 255 && !deviceId.includes('\u0000');
}
