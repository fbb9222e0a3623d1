// Server notices (Synapse's docs/admin_api/server_notices.md; client-server § "Server
// Notices"):
//   POST /_synapse/admin/v1/send_server_notice            {user_id, content, type?, state_key?}
//   PUT  /_synapse/admin/v1/send_server_notice/{txnId}
// Notices come from a system user, `@server-notices:<server>` (created on first use, with no
// password, so nobody can log in as it), in one invite-only room per user; a user who left
// their notices room gets a new one with the next notice.

import { jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { DEFAULT_ROOM_VERSION, roomVersionRules } from '../../rooms/room-versions.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import type { AdminAccess } from './access.ts';
import { localUserParam } from './params.ts';
import type { AdminAccountsPort, AdminProfilesPort, AdminRoomTagsPort } from './ports.ts';
import { withRoomErrors } from './room-errors.ts';

export const SERVER_NOTICES_LOCALPART = 'server-notices';

export interface ServerNoticeEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly accounts: AdminAccountsPort;
  readonly profiles: AdminProfilesPort;
  readonly tags: AdminRoomTagsPort;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly clock: () => number;
}

interface NoticeBody extends JsonObject {
  user_id: string;
  content: JsonObject;
  type?: string;
  state_key?: string;
}

const NOTICE_BODY = jsonBody<NoticeBody>({
  type: 'object',
  required: ['user_id', 'content'],
  properties: {
    user_id: { type: 'string' },
    content: { type: 'object' },
    type: { type: 'string', minLength: 1, maxLength: 255 },
    state_key: { type: 'string', maxLength: 255 },
  },
});

export function serverNoticeEndpoints(deps: ServerNoticeEndpointsDeps): Endpoint[] {
  const { access, repository, accounts, profiles, tags, roomserver, serverName, clock } = deps;
  const systemUser = `@${SERVER_NOTICES_LOCALPART}:${serverName}`;

  async function ensureSystemUser(): Promise<void> {
    if ((await repository.findUser(systemUser)) !== undefined) return;
    try {
      await accounts.register({ userId: systemUser, password: undefined, displayName: 'Server Notices' });
    } catch (error) {
      // Another request created it meanwhile.
      if ((await repository.findUser(systemUser)) === undefined) throw error;
      return;
    }
    await profiles.set(systemUser, systemUser, 'displayname', 'Server Notices');
  }

  async function noticeRoomFor(userId: string): Promise<string> {
    const existing = await repository.serverNoticeRoom(userId);
    if (existing !== undefined) {
      const membership = await roomserver.membership(existing, userId);
      if (membership === 'join' || membership === 'invite') return existing;
    }
    const rules = roomVersionRules(DEFAULT_ROOM_VERSION);
    const users: JsonObject = rules?.auth.privilegeCreators === true ? {} : { [systemUser]: 100 };
    const { roomId } = await withRoomErrors(() =>
      roomserver.createRoom({
        creator: systemUser,
        roomVersion: DEFAULT_ROOM_VERSION,
        initialState: [
          {
            type: 'm.room.power_levels',
            stateKey: '',
            content: { users, users_default: 0, events_default: 100, state_default: 100, ban: 100, kick: 100, redact: 100, invite: 100, events: {} },
          },
          { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'invite' } },
          { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'invited' } },
          { type: 'm.room.name', stateKey: '', content: { name: 'Server Notices' } },
        ],
      }),
    );
    await withRoomErrors(() => roomserver.setMembership({ roomId, sender: systemUser, target: userId, membership: 'invite' }));
    // Client-server § "Server Notices": the room is tagged so clients can show it apart.
    await tags.setTag(userId, userId, roomId, 'm.server_notice', {});
    await repository.setServerNoticeRoom(userId, roomId, clock());
    return roomId;
  }

  const send = async (body: NoticeBody, txnId: string | undefined): Promise<JsonObject> => {
    const userId = localUserParam(body.user_id, serverName);
    const user = await repository.findUser(userId);
    if (user === undefined) throw notFound('User not found');
    if (user.deactivated) throw invalidParam('The user is deactivated');
    if (userId === systemUser) throw invalidParam('Cannot send server notices to the server notices user');
    await ensureSystemUser();
    const roomId = await noticeRoomFor(userId);
    const sent = await withRoomErrors(() =>
      roomserver.sendEvent({
        roomId,
        sender: systemUser,
        type: body.type ?? 'm.room.message',
        content: body.content,
        ...(body.state_key === undefined ? {} : { stateKey: body.state_key }),
        ...(txnId === undefined ? {} : { txnId: `admin-notice:${txnId}` }),
      }),
    );
    return { event_id: sent.eventId };
  };

  const details = ({ body }: { body: NoticeBody }): JsonObject => ({ type: body.type ?? 'm.room.message' });
  return [
    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/send_server_notice',
      access: 'admin',
      body: NOTICE_BODY,
      action: 'send-server-notice',
      target: ({ body }) => body.user_id,
      details,
      handler: async ({ body }) => send(body, undefined),
    }),
    access.endpoint({
      method: 'PUT',
      path: '/_synapse/admin/v1/send_server_notice/:txnId',
      access: 'admin',
      body: NOTICE_BODY,
      action: 'send-server-notice',
      target: ({ body }) => body.user_id,
      details,
      handler: async ({ body, params }) => send(body, params['txnId']),
    }),
  ];
}
