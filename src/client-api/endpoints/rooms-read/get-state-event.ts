// GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey} (client-server § "Getting
// events for a room"; rooms.yaml getRoomStateWithKey): one state event of the state the user
// may read (./access.ts), as its content (default) or, with `format=event`, the client event.
// Without {stateKey}, the state key is the empty string.

import { defineEndpoint, type Endpoint, type EndpointRequest, type Requester } from '../../../http/define-endpoint.ts';
import { notFound } from '../../../http/matrix-error.ts';
import { stateKeyOf } from '../../../rooms/event-view.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { formatRoomEvents } from '../../formatting/format-events.ts';
import { stateAccess } from './access.ts';
import type { RoomsReadDeps } from './deps.ts';
import { enumParam, roomIdParam } from './params.ts';
import { readableState } from './readable-state.ts';

const PATH = '/_matrix/client/v3/rooms/:roomId/state/:eventType';

export function getStateEventEndpoints(deps: RoomsReadDeps): Endpoint[] {
  const handler = (request: EndpointRequest<Requester, undefined>) => readStateEvent(deps, request);
  return [
    defineEndpoint({ method: 'GET', path: `${PATH}/:stateKey`, auth: 'required', operationId: 'getRoomStateWithKey', handler }),
    // "When an empty string, the trailing slash on this endpoint is optional."
    defineEndpoint({ method: 'GET', path: PATH, auth: 'required', operationId: 'getRoomStateWithKey', handler }),
  ];
}

async function readStateEvent(deps: RoomsReadDeps, { params, query, auth }: EndpointRequest<Requester, undefined>): Promise<JsonObject> {
  const { queries } = deps;
  const roomId = roomIdParam(params);
  const eventType = params['eventType'] ?? '';
  const stateKey = params['stateKey'] ?? '';
  const format = enumParam(query, 'format', ['content', 'event'] as const) ?? 'content';
  const access = await stateAccess(queries, roomId, auth.userId);
  const state = await readableState(queries, roomId, access);
  const eventId = state.get(stateKeyOf(eventType, stateKey));
  const event = eventId === undefined ? undefined : (await queries.events([eventId])).get(eventId);
  if (event === undefined) throw notFound('The room has no state with the given type or key');
  if (format === 'content') {
    const content = getField(event.json, 'content');
    return isJsonObject(content) ? content : {};
  }
  const [formatted] = await formatRoomEvents(queries, roomId, [event], {
    format: 'client',
    now: deps.clock(),
    requester: { userId: auth.userId, deviceId: auth.deviceId },
    history: access.history,
  });
  if (formatted === undefined) throw notFound('The room has no state with the given type or key');
  return formatted;
}
