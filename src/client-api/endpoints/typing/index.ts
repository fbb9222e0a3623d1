// The typing endpoint (client-server § "Typing Notifications").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { TypingService } from '../../ephemeral/typing.ts';
import { setTypingEndpoint } from './set-typing.ts';

export function typingEndpoints(typing: TypingService, roomserver: Roomserver): Endpoint[] {
  return [setTypingEndpoint(typing, roomserver)];
}
