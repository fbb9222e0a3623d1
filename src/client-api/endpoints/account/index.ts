// The account endpoints: registration, login, tokens, password, deactivation, and the
// shared-secret registration admin API.

import type { Endpoint } from '../../../http/define-endpoint.ts';
import { adminRegisterEndpoints } from './admin-register.ts';
import type { AccountContext } from './context.ts';
import { deactivateEndpoint } from './deactivate.ts';
import { loginFlowsEndpoint } from './login-flows.ts';
import { loginTokenEndpoint } from './login-token.ts';
import { loginEndpoint } from './login.ts';
import { logoutAllEndpoint } from './logout-all.ts';
import { logoutEndpoint } from './logout.ts';
import { changePasswordEndpoint } from './password.ts';
import { refreshEndpoint } from './refresh.ts';
import { registerAvailableEndpoint } from './register-available.ts';
import { registerEndpoint } from './register.ts';
import { registrationTokenValidityEndpoint } from './registration-token-validity.ts';
import { whoamiEndpoint } from './whoami.ts';

export type { AccountContext } from './context.ts';
export { sharedSecretMac, type SharedSecretRegistration } from './shared-secret-mac.ts';

export function accountEndpoints(context: AccountContext): Endpoint[] {
  const endpoints = [
    registerEndpoint(context),
    registerAvailableEndpoint(context),
    registrationTokenValidityEndpoint(context),
    loginFlowsEndpoint(context.config),
    loginEndpoint(context),
    loginTokenEndpoint(context),
    refreshEndpoint(context),
    logoutEndpoint(context),
    logoutAllEndpoint(context),
    whoamiEndpoint,
    changePasswordEndpoint(context),
    deactivateEndpoint(context),
  ];
  const secret = context.config.registration.shared_secret;
  if (secret !== undefined) endpoints.push(...adminRegisterEndpoints(context, secret));
  return endpoints;
}
