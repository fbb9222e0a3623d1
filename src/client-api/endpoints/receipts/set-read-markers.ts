// POST /_matrix/client/v3/rooms/{roomId}/read_markers (read_markers.yaml `setReadMarker`).

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { ReadMarkers } from '../../ephemeral/read-markers.ts';

interface ReadMarkersBody extends JsonObject {
  'm.fully_read'?: string;
  'm.read'?: string;
  'm.read.private'?: string;
}

const eventId = { type: 'string', pattern: '^\\$' };
const body = jsonBody<ReadMarkersBody>({
  type: 'object',
  properties: { 'm.fully_read': eventId, 'm.read': eventId, 'm.read.private': eventId },
});

export function setReadMarkersEndpoint(readMarkers: ReadMarkers): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/rooms/:roomId/read_markers',
    auth: 'required',
    body,
    rateLimit: 'receipts',
    operationId: 'setReadMarker',
    handler: async ({ params, body, auth }) => {
      const fullyRead = body['m.fully_read'];
      const read = body['m.read'];
      const readPrivate = body['m.read.private'];
      await readMarkers.update(auth.userId, params['roomId'] ?? '', {
        ...(fullyRead === undefined ? {} : { fullyRead }),
        ...(read === undefined ? {} : { read }),
        ...(readPrivate === undefined ? {} : { readPrivate }),
      });
      return {};
    },
  });
}
