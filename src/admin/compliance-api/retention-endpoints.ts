// Retention through the admin API (issue 8 item 3):
//   POST /_stoa/admin/v1/retention/purge     run the purge job now (admins); its summary
//   GET  /_stoa/admin/v1/retention/purged    the record of purged events (?room_id=&limit=)
//
// The job also runs on its own every `retention.purge_interval_ms` when enabled; the manual
// run works whatever `retention.enabled` says, so an operator can purge on demand.

import type { Endpoint } from '../../http/define-endpoint.ts';
import type { RetentionRepository } from '../../storage/retention-repository.ts';
import type { AdminAccess } from '../api/access.ts';
import { intParam } from '../api/params.ts';
import type { RetentionJob } from '../retention/purge-job.ts';

export interface RetentionEndpointsDeps {
  readonly access: AdminAccess;
  readonly job: RetentionJob;
  readonly repository: RetentionRepository;
}

export function retentionEndpoints(deps: RetentionEndpointsDeps): Endpoint[] {
  const { access, job, repository } = deps;
  return [
    access.endpoint({
      method: 'POST',
      path: '/_stoa/admin/v1/retention/purge',
      access: 'admin',
      action: 'retention-purge-now',
      handler: async () => {
        const summary = await job.run();
        return {
          started_ts: summary.startedTs,
          expired_events: summary.expiredTotal,
          rooms: { ...summary.expired },
          redactions_pruned: summary.redactionsPruned,
          media_deleted: [...summary.mediaDeleted],
        };
      },
    }),
    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/retention/purged',
      access: 'read',
      action: 'read-purged-events',
      handler: async ({ query }) => {
        const roomId = query.get('room_id');
        const rows = await repository.purgedEvents({ limit: intParam(query, 'limit', 100, 1000), ...(roomId === null || roomId === '' ? {} : { roomId }) });
        return {
          purged_events: rows.map((row) => ({
            event_id: row.eventId,
            room_id: row.roomId,
            reason: row.reason,
            purged_ts: row.purgedTs,
            original_sha256: row.originalSha256,
          })),
        };
      },
    }),
  ];
}
