// Entry point of state resolution: picks the room version's algorithm
// (content/server-server-api.md "Room State Resolution"; rooms/v1.md, fragments/v2-state-res.md,
// rooms/v12.md). Synchronous in substance; async only so long runs can yield.

import { authorizeEvent, authTypesForEvent } from '../auth/authorize.ts';
import type { StateKey, StateMap } from '../event-view.ts';
import type { AuthChecker } from './auth-checker.ts';
import { StateResolutionError } from './errors.ts';
import { EventCache } from './event-cache.ts';
import { Pacer } from './pacer.ts';
import type { ResolveInput } from './types.ts';
import { resolveV1 } from './v1.ts';
import { resolveV2 } from './v2.ts';

export type { ResolveInput, LoadEvent } from './types.ts';
export { StateResolutionError } from './errors.ts';

export async function resolveState(input: ResolveInput): Promise<Map<StateKey, string>> {
  const { rules, stateSets } = input;
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);

  const checker: AuthChecker = {
    rules,
    authorize: authorizeEvent,
    authTypes: authTypesForEvent,
    isSignedBy: input.isSignedBy,
    verifyThirdPartySignature: input.verifyThirdPartySignature,
  };
  const events = new EventCache(input.loadEvent);
  const pacer = new Pacer(input.yieldToEventLoop, input.yieldEvery);
  const isRejected = input.isRejected ?? (() => false);

  switch (rules.stateResolution) {
    case 'v1':
      return resolveV1(stateSets, checker, events, pacer);
    case 'v2':
    case 'v2.1':
      if (input.authChains.length !== stateSets.length) {
        throw new StateResolutionError(
          'AUTH_CHAINS_MISMATCH',
          `${stateSets.length} state sets but ${input.authChains.length} auth chains`,
        );
      }
      return resolveV2(stateSets, input.authChains, checker, events, pacer, {
        v12: rules.stateResolution === 'v2.1',
        isRejected,
      });
    default:
      throw new StateResolutionError('UNKNOWN_ALGORITHM', `unknown state resolution ${String(rules.stateResolution)}`);
  }
}
