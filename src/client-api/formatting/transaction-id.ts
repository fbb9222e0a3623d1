// `unsigned.transaction_id` is the ID the client chose (§ "Transaction identifiers"). The
// write endpoints store it scoped by endpoint (`send:<txnId>`, `redact:<txnId>`), so a /send
// and a /redact with the same ID do not collide; clients get the ID back without the scope.

import { REDACT_TXN_PREFIX } from '../endpoints/rooms-write/redact-event.ts';
import { SEND_TXN_PREFIX } from '../endpoints/rooms-write/send-event.ts';

const SCOPES: readonly string[] = [SEND_TXN_PREFIX, REDACT_TXN_PREFIX];

export function clientTransactionId(stored: string): string {
  for (const scope of SCOPES) if (stored.startsWith(scope)) return stored.slice(scope.length);
  return stored;
}
