// GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]
// (relations.yaml getRelatingEvents, getRelatingEventsWithRelType,
// getRelatingEventsWithRelTypeAndEventType) and GET /_matrix/client/v1/rooms/{roomId}/threads
// (threads_list.yaml getThreadRoots).

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { RelationsService } from '../../relations/relations-service.ts';
import { eventIdParam, roomIdParam } from '../rooms-read/params.ts';

const BASE = '/_matrix/client/v1/rooms/:roomId/relations/:eventId';

function optional(query: URLSearchParams, name: string): { [key: string]: string } {
  const value = query.get(name);
  return value === null ? {} : { [name]: value };
}

export function relationsEndpoints(relations: RelationsService): Endpoint[] {
  const variants: Array<{ path: string; operationId: string }> = [
    { path: BASE, operationId: 'getRelatingEvents' },
    { path: `${BASE}/:relType`, operationId: 'getRelatingEventsWithRelType' },
    { path: `${BASE}/:relType/:eventType`, operationId: 'getRelatingEventsWithRelTypeAndEventType' },
  ];
  return [
    ...variants.map(({ path, operationId }) =>
      defineEndpoint({
        method: 'GET',
        path,
        auth: 'required',
        operationId,
        handler: ({ params, query, auth }) =>
          relations.relations({
            roomId: roomIdParam(params),
            eventId: eventIdParam(params),
            userId: auth.userId,
            deviceId: auth.deviceId,
            ...(params['relType'] === undefined ? {} : { relType: params['relType'] }),
            ...(params['eventType'] === undefined ? {} : { eventType: params['eventType'] }),
            ...optional(query, 'from'),
            ...optional(query, 'to'),
            ...optional(query, 'limit'),
            ...optional(query, 'dir'),
            ...optional(query, 'recurse'),
          }),
      }),
    ),
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/:roomId/threads',
      auth: 'required',
      operationId: 'getThreadRoots',
      handler: ({ params, query, auth }) =>
        relations.threads({
          roomId: roomIdParam(params),
          userId: auth.userId,
          deviceId: auth.deviceId,
          ...optional(query, 'include'),
          ...optional(query, 'from'),
          ...optional(query, 'limit'),
        }),
    }),
  ];
}
