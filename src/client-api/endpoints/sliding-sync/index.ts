// Simplified sliding sync (MSC4186), the sync Element X and matrix-rust-sdk use.
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { SlidingSyncService } from '../../sliding-sync/sliding-sync-service.ts';
import { slidingSyncEndpoint } from './sliding-sync.ts';

export function slidingSyncEndpoints(service: SlidingSyncService): Endpoint[] {
  return [slidingSyncEndpoint(service)];
}
