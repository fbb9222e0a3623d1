// GET /_matrix/client/v3/login (OpenAPI login.yaml `getLoginFlows`): m.login.password unless
// `password_config.enabled` is false, m.login.sso with its identity_providers when single
// sign-on is configured (definitions/sso_login_flow.yaml), m.login.token, and
// m.login.application_service when application services are registered (§ "Application
// services: Server admin style permissions").

import type { StoaConfig } from '../../../config/types.ts';
import { defineEndpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';

export function loginFlowsEndpoint(config: Pick<StoaConfig, 'password_config' | 'sso' | 'app_service_config_files'>) {
  const flows: JsonObject[] = [];
  if (config.password_config.enabled) flows.push({ type: 'm.login.password' });
  if (config.sso.providers.length > 0) {
    const identityProviders = config.sso.providers.map((p) => {
      const idp: JsonObject = { id: p.id, name: p.name };
      if (p.icon !== undefined) idp['icon'] = p.icon;
      if (p.brand !== undefined) idp['brand'] = p.brand;
      return idp;
    });
    flows.push({ type: 'm.login.sso', identity_providers: identityProviders });
  }
  flows.push({ type: 'm.login.token', get_login_token: true });
  if (config.app_service_config_files.length > 0) flows.push({ type: 'm.login.application_service' });
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/login',
    auth: 'none',
    operationId: 'getLoginFlows',
    handler: () => ({ flows }),
  });
}
