// Server-side key backup endpoints (client-server § "Server-side key backups").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { BackupService } from '../../e2ee/backup-service.ts';
import { backupKeyEndpoints } from './backup-keys.ts';
import { backupVersionEndpoints } from './backup-versions.ts';

export function keyBackupEndpoints(backup: BackupService): Endpoint[] {
  return [...backupVersionEndpoints(backup), ...backupKeyEndpoints(backup)];
}
