// Stoa's own admin endpoints beside Synapse's:
//   GET    /_synapse/admin/v1/server_version            (Synapse's, for tools such as synadm)
//   GET    /_stoa/admin/v1/audit_log                    the hash-chained audit log (from, limit)
//   GET    /_stoa/admin/v1/users/{userId}/roles
//   PUT    /_stoa/admin/v1/users/{userId}/roles/{role}  grant (admins only)
//   DELETE /_stoa/admin/v1/users/{userId}/roles/{role}  revoke (admins only)

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../../http/server-info.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import { COMPLIANCE_ROLE, type AdminAccess } from './access.ts';
import { intParam, localUserParam } from './params.ts';

const ROLES: readonly string[] = [COMPLIANCE_ROLE];

export interface StoaAdminEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly serverName: string;
  readonly clock: () => number;
}

export function stoaAdminEndpoints(deps: StoaAdminEndpointsDeps): Endpoint[] {
  const { access, repository, serverName, clock } = deps;
  const roleOf = (params: Readonly<Record<string, string>>): string => {
    const role = params['role'] ?? '';
    if (!ROLES.includes(role)) throw invalidParam(`Unknown role: ${role}`);
    return role;
  };
  const existingUser = async (params: Readonly<Record<string, string>>): Promise<string> => {
    const userId = localUserParam(params['userId'], serverName);
    if ((await repository.findUser(userId)) === undefined) throw notFound('User not found');
    return userId;
  };

  return [
    // Synapse answers this without authentication; so do we (it tells nothing a
    // federation /version request would not).
    defineEndpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/server_version',
      auth: 'none',
      handler: () => ({ server_version: `${SOFTWARE_NAME} ${SOFTWARE_VERSION}` }),
    }),

    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/audit_log',
      access: 'read',
      action: 'read-audit-log',
      handler: async ({ query }) => {
        const from = intParam(query, 'from', 0);
        const limit = intParam(query, 'limit', 100, 1000);
        const entries = await access.auditLog.read(from, limit);
        const last = entries.at(-1);
        return {
          entries: entries.map((entry) => ({
            seq: entry.seq,
            ts: entry.ts,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            origin: entry.origin,
            details: entry.details,
            prev_hash: entry.prevHash,
            hash: entry.hash,
          })),
          ...(last !== undefined && entries.length === limit ? { next_token: String(last.seq) } : {}),
        };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/users/:userId/roles',
      access: 'read',
      action: 'query-user-roles',
      target: ({ params }) => params['userId'] ?? null,
      handler: async ({ params }) => {
        const userId = await existingUser(params);
        const { isAdmin, roles } = await repository.accessOf(userId);
        return { user_id: userId, admin: isAdmin, roles };
      },
    }),

    access.endpoint({
      method: 'PUT',
      path: '/_stoa/admin/v1/users/:userId/roles/:role',
      access: 'admin',
      action: 'grant-role',
      target: ({ params }) => params['userId'] ?? null,
      details: ({ params }) => ({ role: params['role'] ?? '' }),
      handler: async ({ params, auth }) => {
        const role = roleOf(params);
        const userId = await existingUser(params);
        await repository.grantRole(userId, role, auth.userId, clock());
        return { user_id: userId, roles: await repository.rolesOf(userId) };
      },
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_stoa/admin/v1/users/:userId/roles/:role',
      access: 'admin',
      action: 'revoke-role',
      target: ({ params }) => params['userId'] ?? null,
      details: ({ params }) => ({ role: params['role'] ?? '' }),
      handler: async ({ params }) => {
        const role = roleOf(params);
        const userId = await existingUser(params);
        await repository.revokeRole(userId, role);
        return { user_id: userId, roles: await repository.rolesOf(userId) };
      },
    }),
  ];
}
