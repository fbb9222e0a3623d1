// POST /_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId} (receipts.yaml
// `postReceipt`). `m.fully_read` is accepted as an alias of /read_markers and takes no
// `thread_id`, which is a receipt categorisation.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { ReadMarkers } from '../../ephemeral/read-markers.ts';
import { isFullyReadMarker, type ReceiptsService } from '../../ephemeral/receipts.ts';

interface PostReceiptBody extends JsonObject {
  thread_id?: string;
}

// thread_id's type is checked in the handler: receipts.yaml wants M_INVALID_PARAM for it.
const body = jsonBody<PostReceiptBody>({ type: 'object' });

export function postReceiptEndpoint(receipts: ReceiptsService, readMarkers: ReadMarkers): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/rooms/:roomId/receipt/:receiptType/:eventId',
    auth: 'required',
    body,
    rateLimit: 'receipts',
    operationId: 'postReceipt',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      const receiptType = params['receiptType'] ?? '';
      const eventId = params['eventId'] ?? '';
      const threadId: unknown = body['thread_id'];
      if (threadId !== undefined && (typeof threadId !== 'string' || threadId === '')) {
        throw invalidParam('thread_id field must be a non-empty string');
      }
      if (isFullyReadMarker(receiptType)) {
        if (threadId !== undefined) throw invalidParam('thread_id is not allowed for m.fully_read');
        await readMarkers.setFullyRead(auth.userId, roomId, eventId);
      } else {
        await receipts.sendReceipt({
          roomId,
          userId: auth.userId,
          receiptType,
          eventId,
          ...(threadId === undefined ? {} : { threadId }),
        });
      }
      return {};
    },
  });
}
