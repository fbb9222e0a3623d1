// Users (Synapse's user admin API, docs/admin_api/user_admin_api.md):
//   GET  /_synapse/admin/v2/users                      list (from, limit, user_id, name, guests,
//                                                      deactivated, admins, order_by, dir)
//   GET  /_synapse/admin/v2/users/{userId}             query
//   PUT  /_synapse/admin/v2/users/{userId}             create (201) or modify (200)
//   POST /_synapse/admin/v1/deactivate/{userId}        deactivate, optionally erase
//   POST /_synapse/admin/v1/reset_password/{userId}
//   GET  /_synapse/admin/v1/whois/{userId}
//   POST /_synapse/admin/v1/users/{userId}/login       "login as": a new access token
//   GET/PUT /_synapse/admin/v1/users/{userId}/admin
//   GET  /_synapse/admin/v1/users/{userId}/joined_rooms
// The listing filters, sorts and pages in memory after the database filters: fine for the
// tens of thousands of accounts an organisation has, not for millions.

import { HttpResponse, jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { MatrixError, notFound } from '../../http/matrix-error.ts';
import { isValidUserLocalpart } from '../../rooms/identifiers.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { AdminRepository, AdminUserRow } from '../../storage/admin-repository.ts';
import type { AdminAccess } from './access.ts';
import { boolParam, dirParam, enumParam, intParam, localUserParam, nextToken, sortBy } from './params.ts';
import type { AdminAccountsPort, AdminProfilesPort } from './ports.ts';

export interface UserEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly accounts: AdminAccountsPort;
  readonly profiles: AdminProfilesPort;
  readonly roomserver: Pick<Roomserver, 'roomsForUser'>;
  readonly serverName: string;
  readonly clock: () => number;
}

const ORDER_BY = ['name', 'is_guest', 'admin', 'user_type', 'deactivated', 'shadow_banned', 'displayname', 'avatar_url', 'creation_ts', 'last_seen_ts'] as const;
type OrderBy = (typeof ORDER_BY)[number];

const MAX_PASSWORD_LENGTH = 512;

interface ModifyUserBody extends JsonObject {
  password?: string;
  logout_devices?: boolean;
  displayname?: string | null;
  avatar_url?: string | null;
  admin?: boolean;
  deactivated?: boolean;
  user_type?: string | null;
}

const MODIFY_USER_BODY = jsonBody<ModifyUserBody>({
  type: 'object',
  properties: {
    password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH },
    logout_devices: { type: 'boolean' },
    displayname: { type: ['string', 'null'], maxLength: 256 },
    avatar_url: { type: ['string', 'null'], maxLength: 1024 },
    admin: { type: 'boolean' },
    deactivated: { type: 'boolean' },
    user_type: { type: ['string', 'null'] },
    threepids: { type: 'array' },
    external_ids: { type: 'array' },
    locked: { type: 'boolean' },
  },
});

const DEACTIVATE_BODY = jsonBody<{ erase?: boolean }>({ type: 'object', properties: { erase: { type: 'boolean' } } });

const RESET_PASSWORD_BODY = jsonBody<{ new_password: string; logout_devices?: boolean }>({
  type: 'object',
  required: ['new_password'],
  properties: { new_password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH }, logout_devices: { type: 'boolean' } },
});

const LOGIN_AS_BODY = jsonBody<{ valid_until_ms?: number }>({ type: 'object', properties: { valid_until_ms: { type: 'integer' } } });

const SET_ADMIN_BODY = jsonBody<{ admin: boolean }>({ type: 'object', required: ['admin'], properties: { admin: { type: 'boolean' } } });

export function userEndpoints(deps: UserEndpointsDeps): Endpoint[] {
  const { access, repository, accounts, profiles, serverName, clock } = deps;
  const userParam = (params: Readonly<Record<string, string>>): string => localUserParam(params['userId'], serverName);
  const targetUser = ({ params }: { params: Readonly<Record<string, string>> }): string | null => params['userId'] ?? null;

  async function existingUser(userId: string): Promise<AdminUserRow> {
    const user = await repository.findUser(userId);
    if (user === undefined) throw notFound('User not found');
    return user;
  }

  return [
    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v2/users',
      access: 'read',
      action: 'list-users',
      handler: async ({ query }) => {
        const from = intParam(query, 'from', 0);
        const limit = intParam(query, 'limit', 100, 1000);
        const orderBy = enumParam<OrderBy>(query, 'order_by', ORDER_BY, 'name');
        const dir = dirParam(query);
        const rows = await repository.listUsers({
          guests: boolParam(query, 'guests', true),
          deactivated: boolParam(query, 'deactivated', false),
          admins: boolParam(query, 'admins', undefined),
        });
        // `name` matches the localpart or the display name; `user_id` (ignored with `name`) the ID.
        const name = query.get('name')?.toLowerCase();
        const userIdPart = query.get('user_id')?.toLowerCase();
        const matching = rows.filter((row) => {
          if (name !== undefined && name !== '') {
            const displayname = profileOf(row).displayname?.toLowerCase() ?? '';
            return localpartOf(row.userId).toLowerCase().includes(name) || displayname.includes(name);
          }
          return userIdPart === undefined || userIdPart === '' || row.userId.toLowerCase().includes(userIdPart);
        });
        const sorted = sortBy(matching, (row) => sortKey(row, orderBy), (row) => row.userId, dir);
        const page = sorted.slice(from, from + limit);
        return { users: page.map(listedUser), total: matching.length, ...nextToken(from, page.length, matching.length) };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v2/users/:userId',
      access: 'read',
      action: 'query-user',
      target: targetUser,
      handler: async ({ params }) => queriedUser(await existingUser(userParam(params))),
    }),

    access.endpoint({
      method: 'PUT',
      path: '/_synapse/admin/v2/users/:userId',
      access: 'admin',
      body: MODIFY_USER_BODY,
      handler: async ({ params, body, auth }, call) => {
        const userId = userParam(params);
        const localpart = localpartOf(userId);
        const existing = await repository.findUser(userId);
        // What changed, for the audit log: field names, and the flags' new values (never the password).
        const auditDetails = {
          fields: Object.keys(body).filter((key) => key !== 'password'),
          password_set: body.password !== undefined,
          ...(body.admin === undefined ? {} : { admin: body.admin }),
          ...(body.deactivated === undefined ? {} : { deactivated: body.deactivated }),
        };
        if (existing === undefined) {
          if (!isValidUserLocalpart(localpart)) throw new MatrixError(400, 'M_INVALID_USERNAME', 'Invalid user ID localpart');
          await accounts.register({
            userId,
            password: body.password,
            isAdmin: body.admin ?? false,
            displayName: typeof body.displayname === 'string' ? body.displayname : undefined,
          });
          await applyProfile(userId, body);
          if (body.deactivated === true) await accounts.deactivate(userId);
          await call.audit('create-user', userId, auditDetails);
          return HttpResponse.json(queriedUser(await existingUser(userId)), 201);
        }
        if (body.admin === false && userId === auth.userId && existing.isAdmin) {
          throw new MatrixError(400, 'M_UNKNOWN', 'You may not demote yourself.');
        }
        if (body.deactivated === false && existing.deactivated && body.password === undefined) {
          throw new MatrixError(400, 'M_UNKNOWN', 'Must provide a password to re-activate an account.');
        }
        if (body.deactivated === true && userId === auth.userId) {
          throw new MatrixError(400, 'M_UNKNOWN', 'You may not deactivate yourself.');
        }
        if (body.deactivated === false && existing.deactivated) await repository.reactivate(userId);
        if (body.password !== undefined) {
          await accounts.changePassword(userId, body.password, { logoutDevices: body.logout_devices ?? true, keepDeviceId: undefined });
        }
        if (body.admin !== undefined) await repository.setAdmin(userId, body.admin);
        if (!existing.deactivated || body.deactivated === false) await applyProfile(userId, body);
        if (body.deactivated === true && !existing.deactivated) await accounts.deactivate(userId);
        await call.audit('modify-user', userId, auditDetails);
        return queriedUser(await existingUser(userId));
      },
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/deactivate/:userId',
      access: 'admin',
      body: DEACTIVATE_BODY,
      action: 'deactivate-user',
      target: targetUser,
      details: ({ body }) => ({ erase: body.erase ?? false }),
      handler: async ({ params, body, auth }) => {
        const userId = userParam(params);
        await existingUser(userId);
        if (userId === auth.userId) throw new MatrixError(400, 'M_UNKNOWN', 'You may not deactivate yourself.');
        if (body.erase === true) {
          // Erasure wipes the profile first, so the member events sent on leaving carry no name.
          await profiles.delete(userId, userId, 'displayname');
          await profiles.delete(userId, userId, 'avatar_url');
          await repository.markErased(userId, clock());
        }
        await accounts.deactivate(userId);
        return { id_server_unbind_result: 'success' };
      },
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/reset_password/:userId',
      access: 'admin',
      body: RESET_PASSWORD_BODY,
      action: 'reset-password',
      target: targetUser,
      details: ({ body }) => ({ logout_devices: body.logout_devices ?? true }),
      handler: async ({ params, body }) => {
        const userId = userParam(params);
        const user = await existingUser(userId);
        if (user.deactivated) throw new MatrixError(400, 'M_UNKNOWN', 'The user is deactivated');
        await accounts.changePassword(userId, body.new_password, { logoutDevices: body.logout_devices ?? true, keepDeviceId: undefined });
        return {};
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/whois/:userId',
      access: 'read',
      action: 'whois',
      target: targetUser,
      handler: async ({ params }) => {
        const userId = userParam(params);
        await existingUser(userId);
        const devices: JsonObject = {};
        for (const device of await repository.devicesSeen(userId)) {
          const connections: JsonValue[] =
            device.lastSeenTs === null ? [] : [{ ip: device.lastSeenIp, last_seen: device.lastSeenTs, user_agent: null }];
          devices[device.deviceId] = { sessions: [{ connections }] };
        }
        return { user_id: userId, devices };
      },
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/users/:userId/login',
      access: 'admin',
      body: LOGIN_AS_BODY,
      action: 'login-as-user',
      target: targetUser,
      handler: async ({ params, auth }) => {
        const userId = userParam(params);
        const user = await existingUser(userId);
        if (userId === auth.userId) throw new MatrixError(400, 'M_UNKNOWN', 'Cannot use admin API to login as self');
        if (user.deactivated) throw new MatrixError(400, 'M_UNKNOWN', 'The user is deactivated');
        // A device of its own, named for what it is: the user sees it in their device list.
        const session = await accounts.issueSession({ userId, initialDisplayName: `Admin login by ${auth.userId}`, refreshable: false });
        return { access_token: session.accessToken };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/users/:userId/admin',
      access: 'read',
      action: 'query-user-admin',
      target: targetUser,
      handler: async ({ params }) => ({ admin: (await existingUser(userParam(params))).isAdmin }),
    }),

    access.endpoint({
      method: 'PUT',
      path: '/_synapse/admin/v1/users/:userId/admin',
      access: 'admin',
      body: SET_ADMIN_BODY,
      action: 'set-user-admin',
      target: targetUser,
      details: ({ body }) => ({ admin: body.admin }),
      handler: async ({ params, body, auth }) => {
        const userId = userParam(params);
        await existingUser(userId);
        if (!body.admin && userId === auth.userId) throw new MatrixError(400, 'M_UNKNOWN', 'You may not demote yourself.');
        await repository.setAdmin(userId, body.admin);
        return {};
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/users/:userId/joined_rooms',
      access: 'read',
      action: 'list-user-rooms',
      target: targetUser,
      handler: async ({ params }) => {
        const userId = userParam(params);
        await existingUser(userId);
        const rooms = await deps.roomserver.roomsForUser(userId, 'join');
        return { joined_rooms: rooms, total: rooms.length };
      },
    }),
  ];

  /** Display name and avatar from the body, through the profile service (member events follow). */
  async function applyProfile(userId: string, body: ModifyUserBody): Promise<void> {
    for (const key of ['displayname', 'avatar_url'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (value === null || value === '') await profiles.delete(userId, userId, key);
      else await profiles.set(userId, userId, key, value);
    }
  }
}

function localpartOf(userId: string): string {
  const colon = userId.indexOf(':');
  return userId.slice(1, colon < 0 ? undefined : colon);
}

function profileOf(row: AdminUserRow): { displayname: string | null; avatar_url: string | null } {
  let fields: unknown;
  try {
    fields = row.profile === null ? {} : JSON.parse(row.profile);
  } catch {
    fields = {};
  }
  const object = isJsonObject(fields) ? fields : {};
  const displayname = object['displayname'];
  const avatar = object['avatar_url'];
  return { displayname: typeof displayname === 'string' ? displayname : null, avatar_url: typeof avatar === 'string' ? avatar : null };
}

function sortKey(row: AdminUserRow, orderBy: OrderBy): string | number | boolean | null {
  switch (orderBy) {
    case 'name':
      return row.userId;
    case 'is_guest':
      return row.isGuest;
    case 'admin':
      return row.isAdmin;
    case 'user_type':
      return null;
    case 'shadow_banned':
      return row.shadowBanned;
    case 'deactivated':
      return row.deactivated;
    case 'displayname':
      return profileOf(row).displayname;
    case 'avatar_url':
      return profileOf(row).avatar_url;
    case 'creation_ts':
      return row.createdTs;
    case 'last_seen_ts':
      return row.lastSeenTs;
  }
}

/** An entry of the list: Synapse gives `creation_ts` in milliseconds here. */
function listedUser(row: AdminUserRow): JsonObject {
  const profile = profileOf(row);
  return {
    name: row.userId,
    user_type: null,
    is_guest: row.isGuest,
    admin: row.isAdmin,
    deactivated: row.deactivated,
    erased: row.erased,
    shadow_banned: row.shadowBanned,
    displayname: profile.displayname,
    avatar_url: profile.avatar_url,
    creation_ts: row.createdTs,
    approved: true,
    locked: false,
    last_seen_ts: row.lastSeenTs,
  };
}

/** The query answer: Synapse gives `creation_ts` in seconds here. */
function queriedUser(row: AdminUserRow): JsonObject {
  const profile = profileOf(row);
  return {
    name: row.userId,
    displayname: profile.displayname,
    threepids: [],
    avatar_url: profile.avatar_url,
    is_guest: row.isGuest,
    admin: row.isAdmin,
    deactivated: row.deactivated,
    erased: row.erased,
    shadow_banned: row.shadowBanned,
    creation_ts: Math.floor(row.createdTs / 1000),
    appservice_id: null,
    consent_server_notice_sent: null,
    consent_version: null,
    consent_ts: null,
    external_ids: [],
    user_type: null,
    locked: false,
    approved: true,
    last_seen_ts: row.lastSeenTs,
  };
}
