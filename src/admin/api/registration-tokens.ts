// Registration tokens (Synapse's docs/admin_api/registration_tokens.md), for
// m.login.registration_token (client-server § "Token-authenticated registration"):
//   GET    /_synapse/admin/v1/registration_tokens           list (valid=true|false)
//   POST   /_synapse/admin/v1/registration_tokens/new       create (token | length, uses_allowed, expiry_time)
//   GET    /_synapse/admin/v1/registration_tokens/{token}
//   PUT    /_synapse/admin/v1/registration_tokens/{token}   update uses_allowed / expiry_time
//   DELETE /_synapse/admin/v1/registration_tokens/{token}
// `pending` is always 0: Stoa counts a use only when the registration completes, in the same
// transaction, so there is no pending state.

import { randomInt } from 'node:crypto';
import { jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { AccountsRepository } from '../../storage/accounts-repository.ts';
import type { AdminRegistrationToken, AdminRepository } from '../../storage/admin-repository.ts';
import type { AdminAccess } from './access.ts';
import { boolParam } from './params.ts';

export interface RegistrationTokenEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly accounts: Pick<AccountsRepository, 'createRegistrationToken' | 'findRegistrationToken'>;
  readonly clock: () => number;
}

const TOKEN_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-';
const TOKEN_PATTERN = '^[A-Za-z0-9._~-]{1,64}$';
const MAX_USES = 2 ** 31 - 1;

interface NewTokenBody extends JsonObject {
  token?: string;
  uses_allowed?: number | null;
  expiry_time?: number | null;
  length?: number;
}

const NEW_TOKEN_BODY = jsonBody<NewTokenBody>({
  type: 'object',
  properties: {
    token: { type: 'string', pattern: TOKEN_PATTERN },
    uses_allowed: { type: ['integer', 'null'], minimum: 0, maximum: MAX_USES },
    expiry_time: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    length: { type: 'integer', minimum: 1, maximum: 64 },
  },
});

const UPDATE_TOKEN_BODY = jsonBody<{ uses_allowed?: number | null; expiry_time?: number | null }>({
  type: 'object',
  properties: {
    uses_allowed: { type: ['integer', 'null'], minimum: 0, maximum: MAX_USES },
    expiry_time: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
});

export function registrationTokenEndpoints(deps: RegistrationTokenEndpointsDeps): Endpoint[] {
  const { access, repository, accounts, clock } = deps;
  const targetToken = ({ params }: { params: Readonly<Record<string, string>> }): string | null => params['token'] ?? null;

  async function existing(token: string): Promise<JsonObject> {
    const found = await accounts.findRegistrationToken(token);
    if (found === undefined) throw notFound('No such registration token');
    return tokenJson(found);
  }

  return [
    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/registration_tokens',
      access: 'read',
      action: 'list-registration-tokens',
      handler: async ({ query }) => ({
        registration_tokens: (await repository.registrationTokens(boolParam(query, 'valid', undefined), clock())).map(tokenJson),
      }),
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/registration_tokens/new',
      access: 'admin',
      body: NEW_TOKEN_BODY,
      handler: async ({ body }, call) => {
        const now = clock();
        if (typeof body.expiry_time === 'number' && body.expiry_time < now) throw invalidParam('expiry_time must not be in the past');
        if (body.token !== undefined && body.length !== undefined) throw invalidParam('Give either token or length, not both');
        const usesAllowed = body.uses_allowed ?? null;
        const expiryTs = body.expiry_time ?? null;
        let token = body.token;
        if (token !== undefined) {
          if (!(await accounts.createRegistrationToken({ token, usesAllowed, expiryTs, createdTs: now }))) {
            throw invalidParam(`Token already in use: ${token}`);
          }
        } else {
          // A random token; retried on the (unlikely) collision with an existing one.
          for (let attempt = 0; ; attempt++) {
            const candidate = randomToken(body.length ?? 16);
            if (await accounts.createRegistrationToken({ token: candidate, usesAllowed, expiryTs, createdTs: now })) {
              token = candidate;
              break;
            }
            if (attempt >= 5) throw invalidParam('Could not generate a unique token of that length');
          }
        }
        await call.audit('create-registration-token', token, { uses_allowed: usesAllowed, expiry_time: expiryTs });
        return existing(token);
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/registration_tokens/:token',
      access: 'read',
      action: 'query-registration-token',
      target: targetToken,
      handler: async ({ params }) => existing(params['token'] ?? ''),
    }),

    access.endpoint({
      method: 'PUT',
      path: '/_synapse/admin/v1/registration_tokens/:token',
      access: 'admin',
      body: UPDATE_TOKEN_BODY,
      action: 'update-registration-token',
      target: targetToken,
      details: ({ body }) => body,
      handler: async ({ params, body }) => {
        const token = params['token'] ?? '';
        if (typeof body.expiry_time === 'number' && body.expiry_time < clock()) throw invalidParam('expiry_time must not be in the past');
        const changes: { usesAllowed?: number | null; expiryTs?: number | null } = {};
        if (body.uses_allowed !== undefined) changes.usesAllowed = body.uses_allowed;
        if (body.expiry_time !== undefined) changes.expiryTs = body.expiry_time;
        if (!(await repository.updateRegistrationToken(token, changes))) throw notFound('No such registration token');
        return existing(token);
      },
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_synapse/admin/v1/registration_tokens/:token',
      access: 'admin',
      action: 'delete-registration-token',
      target: targetToken,
      handler: async ({ params }) => {
        if (!(await repository.deleteRegistrationToken(params['token'] ?? ''))) throw notFound('No such registration token');
        return {};
      },
    }),
  ];
}

function tokenJson(token: AdminRegistrationToken): JsonObject {
  return { token: token.token, uses_allowed: token.usesAllowed, pending: 0, completed: token.completed, expiry_time: token.expiryTs };
}

function randomToken(length: number): string {
  let token = '';
  for (let i = 0; i < length; i++) token += TOKEN_CHARACTERS[randomInt(TOKEN_CHARACTERS.length)];
  return token;
}
