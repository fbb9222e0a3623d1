// The room-read endpoints of the Client-Server API (issue 4: reads with history visibility
// enforced): /messages, /context, /event, /state, /state/{type}/{key}, /members,
// /joined_members, /joined_rooms.

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { ClientReadQueries } from '../../../roomserver/queries-client.ts';
import type { BundledAggregator } from '../../formatting/bundled-aggregations.ts';
import { getContextEndpoint } from './get-context.ts';
import { getEventEndpoint } from './get-event.ts';
import { getJoinedMembersEndpoint } from './get-joined-members.ts';
import { getJoinedRoomsEndpoint } from './get-joined-rooms.ts';
import { getMembersEndpoint } from './get-members.ts';
import { getMessagesEndpoint } from './get-messages.ts';
import { getStateEventEndpoints } from './get-state-event.ts';
import { getStateEndpoint } from './get-state.ts';

export type { RoomsReadDeps } from './deps.ts';

export function roomsReadEndpoints(deps: {
  readonly roomserver: Roomserver;
  readonly clock: () => number;
  readonly aggregations?: BundledAggregator;
}): Endpoint[] {
  const shared = {
    queries: new ClientReadQueries(deps.roomserver),
    clock: deps.clock,
    ...(deps.aggregations === undefined ? {} : { aggregations: deps.aggregations }),
  };
  return [
    getMessagesEndpoint(shared),
    getContextEndpoint(shared),
    getEventEndpoint(shared),
    getStateEndpoint(shared),
    ...getStateEventEndpoints(shared),
    getMembersEndpoint(shared),
    getJoinedMembersEndpoint(shared),
    getJoinedRoomsEndpoint(shared),
  ];
}
