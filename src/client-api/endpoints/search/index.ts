// Server-side search (client-server § "Server Side Search").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { SearchService } from '../../search/search-service.ts';
import { searchEndpoint } from './search.ts';

export function searchEndpoints(search: SearchService): Endpoint[] {
  return [searchEndpoint(search)];
}
