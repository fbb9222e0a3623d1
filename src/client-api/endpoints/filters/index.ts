// The filter endpoints (client-server § "Filtering").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { FiltersRepository } from '../../../storage/index.ts';
import { defineFilterEndpoint } from './define-filter.ts';
import { getFilterEndpoint } from './get-filter.ts';

export function filterEndpoints(filters: FiltersRepository, clock: () => number): Endpoint[] {
  return [defineFilterEndpoint(filters, clock), getFilterEndpoint(filters)];
}
