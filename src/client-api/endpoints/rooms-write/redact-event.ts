// PUT /_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId} (redaction.yaml
// `redactEvent`; § "Redactions"). The body (`reason` and any other keys) becomes the
// redaction's content; the transaction ID makes retries return the first redaction (scoped to
// this endpoint by a prefix, see ./send-event.ts).

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { withRoomErrors } from '../../rooms/errors.ts';
import { checkMayRedact } from './redaction-permission.ts';

interface RedactBody extends JsonObject {
  reason?: string;
}

const REDACT_BODY = jsonBody<RedactBody>({ type: 'object', properties: { reason: { type: 'string' } } });

export const REDACT_TXN_PREFIX = 'redact:';

export function redactEventEndpoint(roomserver: Roomserver): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/rooms/:roomId/redact/:eventId/:txnId',
    auth: 'required',
    body: REDACT_BODY,
    rateLimit: 'message',
    operationId: 'redactEvent',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      const eventId = params['eventId'] ?? '';
      const txnId = params['txnId'] ?? '';
      if (!eventId.startsWith('$')) throw invalidParam('Not an event ID');
      if (txnId === '') throw invalidParam('Empty transaction ID');
      await checkMayRedact(roomserver, roomId, auth.userId, eventId);
      const { redacts: _ignored, ...content } = body;
      const sent = await withRoomErrors(() =>
        roomserver.sendEvent({
          roomId,
          sender: auth.userId,
          type: 'm.room.redaction',
          content,
          redacts: eventId,
          txnId: REDACT_TXN_PREFIX + txnId,
          ...(auth.deviceId === undefined ? {} : { deviceId: auth.deviceId }),
        }),
      );
      return { event_id: sent.eventId };
    },
  });
}
