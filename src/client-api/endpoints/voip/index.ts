// GET /_matrix/client/v3/voip/turnServer (voip.yaml `getTurnServer`).
//
// Without a TURN server configured the answer is 200 `{}`, as Synapse gives: clients (Element,
// matrix-js-sdk) read that as "no TURN" and fall back to STUN / their own default, whereas an
// error would be logged as a failure on every start. Guests get credentials unless
// `turn.allow_guests` is off (then 403, as Synapse).

import type { TurnConfig } from '../../../config/types.ts';
import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { turnCredentials } from './turn-credentials.ts';

export { turnCredentials } from './turn-credentials.ts';

export function voipEndpoints(config: TurnConfig, clock: () => number): Endpoint[] {
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v3/voip/turnServer',
      auth: 'required',
      rateLimit: 'turn_server',
      operationId: 'getTurnServer',
      handler: ({ auth }) => {
        if (auth.isGuest && !config.allow_guests) throw forbidden('Guest access to TURN is disabled');
        const credentials = turnCredentials(config, auth.userId, clock());
        return credentials === undefined ? {} : { ...credentials };
      },
    }),
  ];
}
