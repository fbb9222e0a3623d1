// POST /_matrix/client/v3/refresh (client-server API § "Refreshing access tokens", OpenAPI
// refresh.yaml `refresh`). Authenticated by the refresh token in the body, not a header.

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import type { AccountContext } from './context.ts';

const REFRESH_BODY = jsonBody<{ refresh_token: string }>({
  type: 'object',
  required: ['refresh_token'],
  properties: { refresh_token: { type: 'string' } },
});

export function refreshEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/refresh',
    auth: 'none',
    body: REFRESH_BODY,
    rateLimit: 'login',
    operationId: 'refresh',
    async handler({ body }) {
      const refreshed = await context.service.refresh(body.refresh_token);
      return { access_token: refreshed.accessToken, refresh_token: refreshed.refreshToken, expires_in_ms: refreshed.expiresInMs };
    },
  });
}
