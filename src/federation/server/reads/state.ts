// GET /_matrix/federation/v1/state/{roomId} and /state_ids/{roomId} (server-server
// § "Retrieving events", events.yaml getRoomState / getRoomStateIds): the room state before
// `event_id` ("prior to considering any state changes induced by the requested event") and
// the auth chain of that state, as PDUs or as IDs, for a server in the room.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden, missingParam, notFound } from '../../../http/matrix-error.ts';
import type { RoomEvent } from '../../../roomserver/index.ts';
import { eventOfRoom, servableEvents, type ReadDeps } from './common.ts';

interface StateAtEvent {
  readonly stateIds: string[];
  readonly authChainIds: string[];
}

async function stateAtEvent(deps: ReadDeps, roomId: string, query: URLSearchParams, serverName: string): Promise<StateAtEvent> {
  const eventId = query.get('event_id');
  if (eventId === null || eventId === '') throw missingParam('event_id is required');
  await deps.access.assertMayReadRoom(roomId, serverName);
  const event: RoomEvent = await eventOfRoom(deps, roomId, eventId);
  if (!(await deps.access.eventVisibleTo(event, serverName))) throw forbidden('Server may not see this event');
  const state = await deps.rooms.stateAt(eventId, 'before');
  // An outlier: we hold the event but not the room state at it.
  if (state === undefined) throw notFound(`The state at ${eventId} is not known here`);
  const stateIds = [...state.values()];
  return { stateIds, authChainIds: await deps.rooms.authChain(stateIds) };
}

export function stateIdsEndpoint(deps: ReadDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/state_ids/:roomId',
    auth: 'federation',
    operationId: 'getRoomStateIds',
    handler: async ({ params, query, auth }) => {
      const { stateIds, authChainIds } = await stateAtEvent(deps, params['roomId'] ?? '', query, auth.serverName);
      return { pdu_ids: stateIds, auth_chain_ids: authChainIds };
    },
  });
}

export function stateEndpoint(deps: ReadDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/state/:roomId',
    auth: 'federation',
    operationId: 'getRoomState',
    handler: async ({ params, query, auth }) => {
      const { stateIds, authChainIds } = await stateAtEvent(deps, params['roomId'] ?? '', query, auth.serverName);
      const pdus = await servableEvents(deps, stateIds);
      const authChain = await servableEvents(deps, authChainIds);
      return { pdus: pdus.map((e) => e.json), auth_chain: authChain.map((e) => e.json) };
    },
  });
}
