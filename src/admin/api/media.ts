// Media (Synapse's docs/admin_api/media_admin_api.md):
//   GET    /_synapse/admin/v1/room/{roomId}/media                     mxc URIs the room's events use
//   POST   /_synapse/admin/v1/room/{roomId}/media/quarantine          quarantine all of them
//   POST   /_synapse/admin/v1/media/quarantine/{serverName}/{mediaId}
//   POST   /_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId}
//   DELETE /_synapse/admin/v1/media/{serverName}/{mediaId}            local media only
//   GET    /_synapse/admin/v1/users/{userId}/media                    a user's uploads
// Quarantine and deletion go through the media service (blobs released when unused).

import type { Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, MatrixError, notFound } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonValue } from '../../rooms/json.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import type { AdminAccess } from './access.ts';
import { dirParam, intParam, localUserParam, nextToken, roomIdParam } from './params.ts';
import type { AdminMediaPort } from './ports.ts';

export interface MediaEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly media: AdminMediaPort;
  readonly serverName: string;
}

const MXC = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/;

export function mediaEndpoints(deps: MediaEndpointsDeps): Endpoint[] {
  const { access, repository, media, serverName } = deps;
  const targetMedia = ({ params }: { params: Readonly<Record<string, string>> }): string => `mxc://${params['serverName'] ?? ''}/${params['mediaId'] ?? ''}`;

  async function roomMedia(roomId: string): Promise<{ local: string[]; remote: string[] }> {
    const uris = new Set<string>();
    for (const json of await repository.eventsMentioningMedia(roomId)) {
      try {
        const event: unknown = JSON.parse(json);
        if (isJsonObject(event)) collectMxc(event['content'], uris);
      } catch {
        // Stored events are valid JSON; a row that is not has nothing to list.
      }
    }
    const local: string[] = [];
    const remote: string[] = [];
    for (const uri of [...uris].sort()) (MXC.exec(uri)?.[1] === serverName ? local : remote).push(uri);
    return { local, remote };
  }

  return [
    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/room/:roomId/media',
      access: 'read',
      action: 'list-room-media',
      target: ({ params }) => params['roomId'] ?? null,
      handler: async ({ params }) => roomMedia(roomIdParam(params['roomId'])),
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/room/:roomId/media/quarantine',
      access: 'admin',
      action: 'quarantine-room-media',
      target: ({ params }) => params['roomId'] ?? null,
      handler: async ({ params, auth }) => {
        const { local, remote } = await roomMedia(roomIdParam(params['roomId']));
        let count = 0;
        for (const uri of [...local, ...remote]) {
          const match = MXC.exec(uri);
          if (match !== null && (await media.quarantine(match[1] ?? '', match[2] ?? '', auth.userId))) count++;
        }
        return { num_quarantined: count };
      },
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/media/quarantine/:serverName/:mediaId',
      access: 'admin',
      action: 'quarantine-media',
      target: targetMedia,
      handler: async ({ params, auth }) => {
        await media.quarantine(params['serverName'] ?? '', params['mediaId'] ?? '', auth.userId);
        return {};
      },
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/media/unquarantine/:serverName/:mediaId',
      access: 'admin',
      action: 'unquarantine-media',
      target: targetMedia,
      handler: async ({ params }) => {
        await media.releaseFromQuarantine(params['serverName'] ?? '', params['mediaId'] ?? '');
        return {};
      },
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_synapse/admin/v1/media/:serverName/:mediaId',
      access: 'admin',
      action: 'delete-media',
      target: targetMedia,
      handler: async ({ params }) => {
        const mediaId = params['mediaId'] ?? '';
        if (params['serverName'] !== serverName) throw new MatrixError(400, 'M_INVALID_PARAM', 'Can only delete local media');
        if (!(await media.delete(serverName, mediaId))) throw notFound('Unknown media');
        return { deleted_media: [mediaId], total: 1 };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/users/:userId/media',
      access: 'read',
      action: 'list-user-media',
      target: ({ params }) => params['userId'] ?? null,
      handler: async ({ params, query }) => {
        const userId = localUserParam(params['userId'], serverName);
        const from = intParam(query, 'from', 0);
        const limit = intParam(query, 'limit', 100, 1000);
        const orderBy = query.get('order_by');
        if (orderBy !== null && orderBy !== '' && orderBy !== 'created_ts') throw invalidParam('Only order_by=created_ts is supported');
        const { media: rows, total } = await repository.mediaOfUser(userId, from, limit, dirParam(query) === 'f' ? 'asc' : 'desc');
        return {
          media: rows.map((row) => ({
            media_id: row.mediaId,
            media_type: row.contentType,
            media_length: row.size,
            upload_name: row.filename,
            created_ts: row.createdTs,
            last_access_ts: null,
            quarantined_by: row.quarantinedBy,
            safe_from_quarantine: false,
          })),
          total,
          ...nextTokenNumber(from, rows.length, total),
        };
      },
    }),
  ];
}

/** Synapse gives this listing's `next_token` as a number. */
function nextTokenNumber(from: number, returned: number, total: number): { next_token?: number } {
  const next = nextToken(from, returned, total).next_token;
  return next === undefined ? {} : { next_token: Number(next) };
}

/** Every `mxc://` string anywhere in an event's content (url, info.thumbnail_url, file.url, ...). */
function collectMxc(value: JsonValue | undefined, into: Set<string>): void {
  if (typeof value === 'string') {
    if (MXC.test(value)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectMxc(item, into);
  } else if (isJsonObject(value)) {
    for (const item of Object.values(value)) collectMxc(item, into);
  }
}
