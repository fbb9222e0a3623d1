// Third-party identifiers (client-server § "Adding Account Administrative Contact
// Information", administrative_contact.yaml, the requestToken endpoints of registration.yaml
// and password_management.yaml) and third-party networks (§ "Third-party Networks",
// third_party_lookup.yaml).
//
// Stoa sends no email or SMS and talks to no identity server, so no user has a 3PID and none
// can be added (`/capabilities` says `m.3pid_changes: false`). Each route answers what the
// spec documents for that situation rather than 404 M_UNRECOGNIZED, which clients read as
// "old server" and report as a bug:
//   - GET /account/3pid: truthfully, no 3PIDs;
//   - the requestToken routes: 403 M_THREEPID_DENIED ("does not allow the third-party
//     identifier as a contact option") — no validation session is ever started;
//   - /account/3pid (deprecated), /add, /bind: 403 M_THREEPID_AUTH_FAILED, since the session
//     they name cannot have been validated;
//   - /delete, /unbind: there is nothing to remove and no identity server to ask:
//     `id_server_unbind_result: no-support`, as Synapse answers;
//   - third-party networks: no application service bridges a protocol here, so no protocols,
//     unknown protocols are 404, and reverse lookups find nothing.
// Everything else under these prefixes (e.g. Synapse's `submitToken` pages) is not routed
// and gets the app's 404 M_UNRECOGNIZED.

import { ANY_JSON_OBJECT, defineEndpoint, HttpResponse, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { MatrixError, notFound } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';

const CLIENT = '/_matrix/client/v3';

function threepidDenied(): MatrixError {
  return new MatrixError(403, 'M_THREEPID_DENIED', 'This server does not allow third-party identifiers as contact options');
}

function threepidAuthFailed(): MatrixError {
  return new MatrixError(403, 'M_THREEPID_AUTH_FAILED', 'No third-party identifier was validated: this server does not validate them');
}

interface ThreepidBody extends JsonObject {
  medium: string;
  address: string;
}

const THREEPID_BODY = jsonBody<ThreepidBody>({
  type: 'object',
  properties: { medium: { type: 'string' }, address: { type: 'string' }, id_server: { type: 'string' } },
  required: ['medium', 'address'],
});

const REQUEST_TOKEN_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['/register/email/requestToken', 'requestTokenToRegisterEmail'],
  ['/register/msisdn/requestToken', 'requestTokenToRegisterMSISDN'],
  ['/account/3pid/email/requestToken', 'requestTokenTo3PIDEmail'],
  ['/account/3pid/msisdn/requestToken', 'requestTokenTo3PIDMSISDN'],
  ['/account/password/email/requestToken', 'requestTokenToResetPasswordEmail'],
  ['/account/password/msisdn/requestToken', 'requestTokenToResetPasswordMSISDN'],
];

export function thirdPartyEndpoints(): Endpoint[] {
  const endpoints: Endpoint[] = [
    defineEndpoint({
      method: 'GET',
      path: `${CLIENT}/account/3pid`,
      auth: 'required',
      operationId: 'getAccount3PIDs',
      handler: () => ({ threepids: [] }),
    }),
    ...(
      [
        ['/account/3pid', 'post3PIDs'],
        ['/account/3pid/add', 'add3PID'],
        ['/account/3pid/bind', 'bind3PID'],
      ] as const
    ).map(([path, operationId]) =>
      defineEndpoint({
        method: 'POST',
        path: CLIENT + path,
        auth: 'required',
        body: ANY_JSON_OBJECT,
        operationId,
        handler: () => {
          throw threepidAuthFailed();
        },
      }),
    ),
    ...(
      [
        ['/account/3pid/delete', 'delete3pidFromAccount'],
        ['/account/3pid/unbind', 'unbind3pidFromAccount'],
      ] as const
    ).map(([path, operationId]) =>
      defineEndpoint({
        method: 'POST',
        path: CLIENT + path,
        auth: 'required',
        body: THREEPID_BODY,
        operationId,
        handler: () => ({ id_server_unbind_result: 'no-support' }),
      }),
    ),
    ...REQUEST_TOKEN_PATHS.map(([path, operationId]) =>
      defineEndpoint({
        method: 'POST',
        path: CLIENT + path,
        auth: 'none',
        body: ANY_JSON_OBJECT,
        rateLimit: 'registration',
        operationId,
        handler: () => {
          throw threepidDenied();
        },
      }),
    ),
    defineEndpoint({
      method: 'GET',
      path: `${CLIENT}/thirdparty/protocols`,
      auth: 'required',
      operationId: 'getProtocols',
      handler: () => ({}),
    }),
  ];
  for (const [path, operationId] of [
    ['/thirdparty/protocol/:protocol', 'getProtocolMetadata'],
    ['/thirdparty/location/:protocol', 'queryLocationByProtocol'],
    ['/thirdparty/user/:protocol', 'queryUserByProtocol'],
  ] as const) {
    endpoints.push(
      defineEndpoint({
        method: 'GET',
        path: CLIENT + path,
        auth: 'required',
        operationId,
        handler: () => {
          throw notFound('Unknown protocol: no bridge is configured on this server');
        },
      }),
    );
  }
  for (const [path, operationId] of [
    ['/thirdparty/location', 'queryLocationByAlias'],
    ['/thirdparty/user', 'queryUserByID'],
  ] as const) {
    endpoints.push(
      defineEndpoint({
        method: 'GET',
        path: CLIENT + path,
        auth: 'required',
        operationId,
        // The answer is a JSON array, which HttpResponse.json (objects only) cannot carry.
        handler: () => new HttpResponse(200, '[]', 'application/json'),
      }),
    );
  }
  return endpoints;
}
