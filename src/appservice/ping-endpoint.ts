// POST /_matrix/client/v1/appservice/{appserviceId}/ping (client-server API, OpenAPI
// appservice_ping.yaml `pingAppservice`; application-service API § "Pinging"): the server
// calls the service's `POST /_matrix/app/v1/ping` and reports how long it took. Only the
// service itself may ask (its `as_token`, the same ID in the path).

import { defineEndpoint, jsonBody, type Endpoint } from '../http/define-endpoint.ts';
import { forbidden, MatrixError } from '../http/matrix-error.ts';
import type { JsonObject } from '../rooms/json.ts';
import type { AppServices } from './service.ts';

interface PingBody extends JsonObject {
  transaction_id?: string;
}

const PING_BODY = jsonBody<PingBody>({
  type: 'object',
  properties: { transaction_id: { type: 'string' } },
});

export function pingEndpoint(services: AppServices, onReachable: (appserviceId: string) => void): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v1/appservice/:appserviceId/ping',
    auth: 'required',
    body: PING_BODY,
    operationId: 'pingAppservice',
    async handler({ params, body, auth }) {
      const appserviceId = params['appserviceId'] ?? '';
      if (auth.appServiceId === undefined || auth.appServiceId !== appserviceId) {
        throw forbidden("Provided access token is not the appservice's as_token");
      }
      const registration = services.byId(appserviceId);
      if (registration === undefined) throw forbidden("Provided access token is not the appservice's as_token");
      if (registration.url === null) throw new MatrixError(400, 'M_URL_NOT_SET', "Application service doesn't have a URL configured");
      const outcome = await services.client.ping(registration, body.transaction_id, services.clock);
      if (outcome.ok) {
        onReachable(appserviceId);
        return { duration_ms: outcome.durationMs };
      }
      if (outcome.reason === 'timeout') throw new MatrixError(504, 'M_CONNECTION_TIMEOUT', 'Connection to the application service timed out');
      if (outcome.reason === 'connection') throw new MatrixError(502, 'M_CONNECTION_FAILED', 'Could not connect to the application service');
      throw new MatrixError(502, 'M_BAD_STATUS', `Ping returned status ${outcome.status}`, { status: outcome.status, body: outcome.body });
    },
  });
}
