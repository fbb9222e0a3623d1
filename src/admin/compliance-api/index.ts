// Compliance endpoints of the admin API (issue 8 items 1, 3, 4 and 7) and the retention
// purge job, as one unit for the composition root. The endpoints use the admin API's access
// rules (../api/access.ts): admins, and the read-only `compliance` role where it applies.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { StoaConfig } from '../../config/types.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import type { Endpoint } from '../../http/define-endpoint.ts';
import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { AdminRepository } from '../../storage/admin-repository.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { RetentionRepository } from '../../storage/retention-repository.ts';
import { AdminAccess } from '../api/access.ts';
import { AuditLog } from '../audit-log/audit-log.ts';
import type { BundleMediaSource } from '../export/bundle-writer.ts';
import { LegalHolds } from '../legal-hold/legal-holds.ts';
import { RetentionJob, type RetentionMediaPort } from '../retention/purge-job.ts';
import { exportEndpoints } from './export-endpoint.ts';
import { legalHoldEndpoints } from './legal-hold-endpoints.ts';
import { reportEndpoints } from './report-endpoints.ts';
import { retentionEndpoints } from './retention-endpoints.ts';

export interface ComplianceApiDeps {
  readonly config: Pick<StoaConfig, 'server_name' | 'retention' | 'old_signing_keys' | 'data_dir'>;
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly signingKey: SigningKey;
  readonly logger: Logger;
  readonly clock: () => number;
  /** The media store: retention deletes media only purged events named; exports bundle media. */
  readonly media?: ComplianceMediaPort;
}

/** What compliance needs of the media service (admin may not import media). */
export interface ComplianceMediaPort extends RetentionMediaPort {
  /** A stored item (local, or a cached remote one); undefined when this server has no copy. */
  read(serverName: string, mediaId: string): Promise<{ readonly contentType: string | null; open(): Promise<AsyncIterable<Uint8Array>> } | undefined>;
}

/** The export's media source over the media port. */
export function bundleMediaSource(media: ComplianceMediaPort): BundleMediaSource {
  return {
    open: async (uri) => {
      const match = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(uri);
      if (match === null) return undefined;
      const item = await media.read(match[1] ?? '', match[2] ?? '');
      return item === undefined ? undefined : { contentType: item.contentType, body: await item.open() };
    },
  };
}

export interface ComplianceApi {
  readonly endpoints: readonly Endpoint[];
  readonly legalHolds: LegalHolds;
  /** Clears half-built exports and starts the retention purge timer (when `retention.enabled`). */
  /** `purgeJob` false: another process of the cluster runs the retention purge. */
  start(purgeJob?: boolean): Promise<void>;
  close(): Promise<void>;
}

export function createComplianceApi(deps: ComplianceApiDeps): ComplianceApi {
  const { db, clock, config } = deps;
  const repository = new AdminRepository(db);
  const audit = new AuditLog(db, clock);
  const access = new AdminAccess({ repository, audit });
  const legalHolds = new LegalHolds(db, clock);
  // API exports are built beside the database rather than in /tmp, often small or in memory.
  const workDir = path.join(config.data_dir, 'export-tmp');
  const job = new RetentionJob({
    db,
    config: config.retention,
    serverName: config.server_name,
    audit,
    logger: deps.logger.child({ component: 'retention' }),
    clock,
    rooms: deps.roomserver,
    ...(deps.media === undefined ? {} : { media: deps.media }),
  });
  return {
    legalHolds,
    start: async (purgeJob = true) => {
      // Bundles a crashed process left half-built; no export is running yet.
      await rm(workDir, { recursive: true, force: true });
      if (purgeJob) job.start();
    },
    close: () => job.close(),
    endpoints: [
      ...legalHoldEndpoints({ access, repository, holds: legalHolds }),
      ...retentionEndpoints({ access, job, repository: new RetentionRepository(db) }),
      ...reportEndpoints({ access, db, clock }),
      ...exportEndpoints({
        access,
        workDir,
        exportDeps: {
          db,
          serverName: config.server_name,
          signingKey: deps.signingKey,
          oldVerifyKeys: config.old_signing_keys,
          stateBefore: (eventId) => deps.roomserver.stateAt(eventId, 'before'),
          clock,
          ...(deps.media === undefined ? {} : { media: bundleMediaSource(deps.media) }),
        },
      }),
    ],
  };
}
