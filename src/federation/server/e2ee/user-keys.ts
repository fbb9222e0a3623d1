// POST /_matrix/federation/v1/user/keys/query and /user/keys/claim (server-server § "End-to-End
// Encryption", user_keys.yaml): another server asks, on behalf of its users, for our users'
// device and cross-signing keys, or claims one-time keys of our users' devices. Only our
// own users are answered; users of other servers in the request are left out, since a server
// speaks for its own users only. The answers come from the same directory the client API's
// /keys/query and /keys/claim use, so both sides hand out the same JSON.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { E2eeKeyDirectory } from '../../../storage/e2ee-key-directory.ts';

/** Above this many users or devices in one request, the request is refused (M_INVALID_PARAM). */
export const MAX_USER_KEY_ITEMS = 1_000;

export interface UserKeysDeps {
  readonly serverName: string;
  readonly directory: Pick<E2eeKeyDirectory, 'query' | 'claim'>;
}

interface QueryBody {
  readonly device_keys: Record<string, string[]>;
  readonly [key: string]: JsonObject[string];
}

interface ClaimBody {
  readonly one_time_keys: Record<string, Record<string, string>>;
  readonly [key: string]: JsonObject[string];
}

const querySchema = {
  type: 'object',
  required: ['device_keys'],
  properties: {
    device_keys: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
  },
};

const claimSchema = {
  type: 'object',
  required: ['one_time_keys'],
  properties: {
    one_time_keys: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'string' } } },
  },
};

export function userKeysEndpoints(deps: UserKeysDeps): Endpoint[] {
  const isLocal = (userId: string): boolean => serverNameOf(userId) === deps.serverName;
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/federation/v1/user/keys/query',
      auth: 'federation',
      operationId: 'queryUserEncryptionKeys',
      body: jsonBody<QueryBody>(querySchema),
      handler: async ({ body }) => {
        const wanted = new Map<string, readonly string[]>();
        let items = 0;
        for (const [userId, devices] of Object.entries(body.device_keys)) {
          items += Math.max(1, devices.length);
          if (isLocal(userId)) wanted.set(userId, devices);
        }
        if (items > MAX_USER_KEY_ITEMS) throw invalidParam(`at most ${MAX_USER_KEY_ITEMS} users and devices may be queried at once`);
        // No viewer: another server sees only the signatures the keys' owners made.
        const answer = await deps.directory.query(wanted, undefined);
        return {
          device_keys: answer.deviceKeys as JsonObject,
          master_keys: answer.masterKeys as JsonObject,
          self_signing_keys: answer.selfSigningKeys as JsonObject,
        };
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/federation/v1/user/keys/claim',
      auth: 'federation',
      operationId: 'claimUserEncryptionKeys',
      body: jsonBody<ClaimBody>(claimSchema),
      handler: async ({ body }) => {
        const requests: Array<{ userId: string; deviceId: string; algorithm: string }> = [];
        let items = 0;
        for (const [userId, devices] of Object.entries(body.one_time_keys)) {
          for (const [deviceId, algorithm] of Object.entries(devices)) {
            items += 1;
            if (isLocal(userId)) requests.push({ userId, deviceId, algorithm });
          }
        }
        if (items > MAX_USER_KEY_ITEMS) throw invalidParam(`at most ${MAX_USER_KEY_ITEMS} keys may be claimed at once`);
        return { one_time_keys: (await deps.directory.claim(requests)) as JsonObject };
      },
    }),
  ];
}
