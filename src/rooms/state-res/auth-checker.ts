// What the resolution steps need of the authorization rules (src/rooms/auth): the check
// itself and the auth events selection, bundled with the caller's signature answers so
// every step authorises events the same way.

import type { AuthContext, AuthResult } from '../auth/types.ts';
import type { EventView } from '../event-view.ts';
import type { JsonObject } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';

export type AuthTypesForEvent = (
  rules: RoomVersionRules,
  event: { type: string; stateKey: string | undefined; sender: string; content: JsonObject },
) => Array<[type: string, stateKey: string]>;

export interface AuthChecker {
  readonly rules: RoomVersionRules;
  readonly authorize: (event: EventView, ctx: AuthContext) => AuthResult;
  readonly authTypes: AuthTypesForEvent;
  readonly isSignedBy: AuthContext['isSignedBy'];
  readonly verifyThirdPartySignature: AuthContext['verifyThirdPartySignature'];
}

/**
 * Runs the auth rules for `event` against `state`. A rule implementation that throws on
 * a malformed event counts as a rejection: one bad event must not fail the resolution.
 */
export function isAllowed(
  checker: AuthChecker,
  event: EventView,
  state: (type: string, stateKey: string) => EventView | undefined,
): boolean {
  try {
    return checker.authorize(event, {
      rules: checker.rules,
      state,
      isSignedBy: checker.isSignedBy,
      verifyThirdPartySignature: checker.verifyThirdPartySignature,
    }).allowed;
  } catch {
    return false;
  }
}

/** The auth types of `event`, or none if the selection throws on a malformed event. */
export function authTypesOf(checker: AuthChecker, event: EventView): Array<[string, string]> {
  try {
    return checker.authTypes(checker.rules, {
      type: event.type,
      stateKey: event.stateKey,
      sender: event.sender,
      content: event.content,
    });
  } catch {
    return [];
  }
}
