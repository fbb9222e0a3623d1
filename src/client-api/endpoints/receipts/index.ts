// Receipts and read markers (client-server § "Receipts", § "Fully read markers").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { ReadMarkers } from '../../ephemeral/read-markers.ts';
import type { ReceiptsService } from '../../ephemeral/receipts.ts';
import { postReceiptEndpoint } from './post-receipt.ts';
import { setReadMarkersEndpoint } from './set-read-markers.ts';

export function receiptEndpoints(receipts: ReceiptsService, readMarkers: ReadMarkers): Endpoint[] {
  return [postReceiptEndpoint(receipts, readMarkers), setReadMarkersEndpoint(readMarkers)];
}
