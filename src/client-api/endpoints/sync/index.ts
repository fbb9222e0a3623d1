// The sync endpoint (client-server § "Syncing").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { FiltersRepository } from '../../../storage/index.ts';
import type { SyncService } from '../../sync/sync-service.ts';
import { syncEndpoint } from './sync.ts';

export function syncEndpoints(service: SyncService, filters: FiltersRepository): Endpoint[] {
  return [syncEndpoint(service, filters)];
}
