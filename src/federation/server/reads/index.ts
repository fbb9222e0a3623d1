// The federation read endpoints (server-server § "Retrieving events", "Backfilling and
// retrieving missing events", "Retrieving event authorisation information").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import { backfillEndpoint } from './backfill.ts';
import type { ReadDeps } from './common.ts';
import { eventAuthEndpoint } from './event-auth.ts';
import { eventEndpoint } from './event.ts';
import { getMissingEventsEndpoint } from './get-missing-events.ts';
import { stateEndpoint, stateIdsEndpoint } from './state.ts';

export type { ReadDeps } from './common.ts';

export function readEndpoints(deps: ReadDeps): Endpoint[] {
  return [
    eventEndpoint(deps),
    stateEndpoint(deps),
    stateIdsEndpoint(deps),
    eventAuthEndpoint(deps),
    backfillEndpoint(deps),
    getMissingEventsEndpoint(deps),
  ];
}
