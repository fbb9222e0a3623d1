// Typing, receipts and presence over federation, both ways: the inbound EDU handlers and
// the forwarder of local changes. main.ts builds this once the ephemeral services exist and
// adds `handlers` to the map it gave createFederation (the dispatcher reads that map per
// EDU, and nothing arrives before the listeners start).

import type { Logger } from '../../logger.ts';
import type { EduHandler } from '../server/edus.ts';
import { PresenceEduHandler, ReceiptEduHandler, TypingEduHandler } from './inbound.ts';
import { EphemeralEduForwarder } from './outbound.ts';
import type { EduOutbox, EduRooms, PresencePort, ReceiptsPort, TypingPort } from './ports.ts';

export type * from './ports.ts';
export { REMOTE_TYPING_TIMEOUT_MS } from './inbound.ts';

export interface EphemeralEduDeps {
  readonly serverName: string;
  readonly rooms: EduRooms;
  readonly outbox: EduOutbox;
  readonly typing: TypingPort;
  readonly receipts: ReceiptsPort;
  readonly presence: PresencePort;
  readonly logger: Logger;
}

export interface EphemeralEdus {
  /** `m.typing`, `m.receipt`, `m.presence`. */
  readonly handlers: ReadonlyMap<string, EduHandler>;
  /** Stops forwarding local changes and waits for those already announced to be queued. */
  stop(): Promise<void>;
}

/** Builds the handlers and starts forwarding local changes. */
export function startEphemeralEdus(deps: EphemeralEduDeps): EphemeralEdus {
  const logger = deps.logger.child({ component: 'federation-edus' });
  const forwarder = new EphemeralEduForwarder({ ...deps, logger });
  forwarder.start();
  return {
    handlers: new Map<string, EduHandler>([
      ['m.typing', new TypingEduHandler(deps.typing, deps.rooms, logger)],
      ['m.receipt', new ReceiptEduHandler(deps.receipts, deps.rooms, logger)],
      ['m.presence', new PresenceEduHandler(deps.presence, logger)],
    ]),
    stop: () => forwarder.stop(),
  };
}
