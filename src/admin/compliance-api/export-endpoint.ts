// The audit export through the admin API (issue 8 item 1):
//   GET /_stoa/admin/v1/rooms/{roomId}/export?since=&until=&with_media=true
// answers with the bundle as one ustar archive (application/x-tar; the "archive format",
// ../export/archive.ts), for admins and compliance users, who need not be in the room.
// `since` (inclusive) and `until` (exclusive) bound `origin_server_ts`: milliseconds or
// ISO 8601. The bundle is built in a temporary folder before the answer starts (so a
// failure is a proper error, not a cut-off archive) and streamed from there. Every export
// is audit-logged with what it produced (event count, chain head).

import { HttpResponse, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import type { AdminAccess } from '../api/access.ts';
import { boolParam, roomIdParam } from '../api/params.ts';
import { exportRoomArchiveStream } from '../export/archive.ts';
import { bundleDirectoryName, ExportError, type ExportDeps } from '../export/exporter.ts';
import { timeParam } from './report-endpoints.ts';

export interface ExportEndpointDeps {
  readonly access: AdminAccess;
  readonly exportDeps: ExportDeps;
  /** Where bundles are built before they are streamed (default: the OS's temporary folder). */
  readonly workDir?: string;
}

export function exportEndpoints(deps: ExportEndpointDeps): Endpoint[] {
  const { access, exportDeps } = deps;
  return [
    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/rooms/:roomId/export',
      access: 'read',
      handler: async ({ params, query }, call) => {
        const roomId = roomIdParam(params['roomId']);
        const sinceTs = timeParam(query, 'since');
        const untilTs = timeParam(query, 'until');
        const withMedia = boolParam(query, 'with_media', false);
        if (sinceTs !== undefined && untilTs !== undefined && untilTs <= sinceTs) throw invalidParam('"until" must be after "since"');
        let archive;
        try {
          archive = await exportRoomArchiveStream(
            exportDeps,
            { roomId, withMedia, ...(sinceTs === undefined ? {} : { sinceTs }), ...(untilTs === undefined ? {} : { untilTs }) },
            deps.workDir,
          );
        } catch (error) {
          if (error instanceof ExportError && error.message.startsWith('unknown room')) throw notFound('Room not found');
          if (error instanceof ExportError) throw invalidParam(error.message);
          throw error;
        }
        const { manifest } = archive;
        await call.audit('export-room', roomId, {
          format: 'tar',
          with_media: withMedia,
          since_ts: sinceTs ?? null,
          until_ts: untilTs ?? null,
          events: manifest.counts.events,
          chain_head: manifest.hash_chain.head,
          role: call.isAdmin ? 'admin' : 'compliance',
        });
        return new HttpResponse(200, archive.stream, 'application/x-tar', {
          'Content-Disposition': `attachment; filename="${bundleDirectoryName(roomId)}.tar"`,
          'Content-Length': String(archive.bytes),
          'X-Stoa-Export-Chain-Head': manifest.hash_chain.head,
        });
      },
    }),
  ];
}
