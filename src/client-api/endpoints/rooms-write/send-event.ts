// PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId} (room_send.yaml
// `sendMessage`; § "Sending events to a room", § "Transaction identifiers").
//
// The body is the event content. A retry with the same transaction ID from the same device
// returns the first event's ID: the roomserver records (room, user, device, txnId) with the
// event in one transaction. Transaction IDs are scoped to one endpoint, so the ID is stored
// with this endpoint's prefix and cannot collide with a /redact transaction; whoever echoes
// it back as `unsigned.transaction_id` strips the prefix (formatting/transaction-id.ts).
//
// `m.room.redaction` may be sent here in every room version (v1.18): `content.redacts` names
// the event, and for rooms before v11 the roomserver moves it to the top level.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { badJson, forbidden, invalidParam } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { withRoomErrors } from '../../rooms/errors.ts';
import { checkTypeAndKey } from './create-room-plan.ts';
import { checkMayRedact } from './redaction-permission.ts';
import type { RelationGuard } from './deps.ts';

export const SEND_TXN_PREFIX = 'send:';

export function sendEventEndpoint(roomserver: Roomserver, relationGuard?: RelationGuard): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    rateLimit: 'message',
    operationId: 'sendMessage',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      const type = params['eventType'] ?? '';
      const txnId = params['txnId'] ?? '';
      checkTypeAndKey(type, undefined, 'eventType');
      if (txnId === '') throw invalidParam('Empty transaction ID');
      if (type === 'm.room.create') throw forbidden('m.room.create is sent only by /createRoom');

      let content: JsonObject = body;
      let redacts: string | undefined;
      if (type === 'm.room.redaction') {
        const target = body['redacts'];
        if (typeof target !== 'string' || !target.startsWith('$')) throw badJson('content.redacts must be an event ID');
        const { redacts: _moved, ...rest } = body;
        content = rest;
        redacts = target;
        await checkMayRedact(roomserver, roomId, auth.userId, target);
      }
      await relationGuard?.check(roomId, auth.userId, type, content);
      const sent = await withRoomErrors(() =>
        roomserver.sendEvent({
          roomId,
          sender: auth.userId,
          type,
          content,
          ...(redacts === undefined ? {} : { redacts }),
          txnId: SEND_TXN_PREFIX + txnId,
          ...(auth.deviceId === undefined ? {} : { deviceId: auth.deviceId }),
        }),
      );
      return { event_id: sent.eventId };
    },
  });
}
