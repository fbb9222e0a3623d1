// The checks performed on receipt of a PDU, as one pure decision
// (content/server-server-api.md "Checks performed on receipt of a PDU", v1.19):
//
//   1. Is a valid event (the room version's format), otherwise it is dropped.
//   2. Passes signature checks, otherwise it is dropped.
//   3. Passes hash checks, otherwise it is redacted before being processed further.
//   4. Passes authorisation rules based on the event's auth events, otherwise rejected.
//   5. Passes authorisation rules based on the state before the event, otherwise rejected.
//   6. Passes authorisation rules based on the current state of the room, otherwise "soft failed".
//   7. Is validated by the Policy Server, if the room uses one, otherwise "soft failed".
//
// Everything that needs I/O or keys arrives as input: the parse result (1), the caller's
// signature verification (2), the auth events and states as lookups (4–6), the policy
// server verdict (7). Check 3 is computed here, since hashing and redaction are pure.
// Check 3 never ends processing, so "redact-then-continue" is not a final decision: it is
// `event.redactedForHash` on whatever checks 4–7 decide about the redacted copy.

import { authorizeEvent, stateFromAuthEvents } from './auth/authorize.ts';
import type { AuthContext } from './auth/types.ts';
import type { EventView } from './event-view.ts';
import { checkContentHash } from './hashes.ts';
import type { JsonObject } from './json.ts';
import type { PduError } from './pdu/errors.ts';
import type { ParsedPdu, ParsePduResult } from './pdu/parse.ts';
import { toEventView } from './pdu/view.ts';
import { redactEvent } from './redaction.ts';

/** The spec's number of each check, so code and decisions can name them. */
export const RECEIPT_CHECK = {
  format: 1,
  signatures: 2,
  hashes: 3,
  authEvents: 4,
  stateBefore: 5,
  currentState: 6,
  policyServer: 7,
} as const;

export type StateLookup = (type: string, stateKey: string) => EventView | undefined;

/**
 * Check 2, decided by the caller's crypto ("Validating hashes and signatures on received
 * events"): the origin server's signature (v1–v2 also the event ID's server's), from known,
 * unexpired keys, over the redacted event.
 */
export type SignatureVerdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

/**
 * Check 7 ("Validating Policy Server signatures"), decided by the caller, who knows whether
 * the current state enables a Policy Server and has already asked it again on a bad signature.
 */
export type PolicyServerVerdict =
  /** No Policy Server in use, or the event is exempt (an `m.room.policy` state event, state key ""). */
  | 'not-in-use'
  | 'signed'
  /** Missing or invalid signature even after asking the Policy Server anew. */
  | 'not-signed';

export interface ReceiptCheckInput {
  /** Check 1: `parsePdu` on the PDU as received. */
  readonly parsed: ParsePduResult;
  /** Check 2. */
  readonly signatures: SignatureVerdict;
  /**
   * Check 4: the events the PDU's `auth_events` name, as stored (redacted where they were
   * redacted). An ID with no event here rejects the PDU: its auth cannot be evaluated.
   */
  readonly authEvents: readonly EventView[];
  /**
   * v12: the room's `m.room.create` event, which `auth_events` never lists but the rules
   * read (the room ID is its ID). Ignored in v1–v11, where it is among the auth events.
   */
  readonly createEvent: EventView | undefined;
  /** Whether an event was itself rejected by these checks. */
  readonly isRejected: (eventId: string) => boolean;
  /**
   * Check 5: the state before the event, resolved over its `prev_events`. `null` when it is
   * not known (an outlier, fetched only for its auth chain), which skips the check.
   */
  readonly stateBefore: StateLookup | null;
  /**
   * Check 6: the current state (resolved across the forward extremities). `null` skips the
   * check, for events that are not candidates for the live timeline (backfill, outliers).
   */
  readonly currentState: StateLookup | null;
  /** Check 7. */
  readonly policyServer: PolicyServerVerdict;
  readonly isSignedBy: AuthContext['isSignedBy'];
  readonly verifyThirdPartySignature: AuthContext['verifyThirdPartySignature'];
}

/** The event as checks 4–7 saw it and as it should be stored. */
export interface CheckedEvent {
  readonly eventId: string;
  /** The redacted copy when check 3 failed, else the event as received. */
  readonly json: JsonObject;
  readonly view: EventView;
  /** Check 3 failed: "the receiving server should use the redacted copy it calculated". */
  readonly redactedForHash: boolean;
}

export type ReceiptDecision =
  /** Checks 1–2: not stored, not relayed, not referenced. */
  | {
      readonly decision: 'drop';
      readonly check: 1 | 2;
      readonly reason: string;
      /** Check 1's typed parse error. */
      readonly error?: PduError;
    }
  /** Checks 4–5: stored as rejected, never relayed, never a prev event, not state. */
  | {
      readonly decision: 'reject';
      readonly check: 4 | 5;
      /** The auth rule's number in this room version. */
      readonly rule: string;
      readonly reason: string;
      readonly event: CheckedEvent;
    }
  /** Checks 6–7: stored and part of the DAG, but not relayed to clients nor a forward extremity. */
  | {
      readonly decision: 'soft-fail';
      readonly check: 6 | 7;
      /** The auth rule's number for check 6. */
      readonly rule?: string;
      readonly reason: string;
      readonly event: CheckedEvent;
    }
  | { readonly decision: 'accept'; readonly event: CheckedEvent };

/**
 * Check 3 on its own: whether the content hash matches, and so whether the event goes on
 * as received or as redacted. A hash that cannot be computed at all (v1–v5 allow fractions,
 * which canonical JSON cannot encode) cannot be confirmed either, so it counts as a mismatch.
 */
export function contentHashVerdict(pdu: ParsedPdu): 'intact' | 'redact-then-continue' {
  let intact: boolean;
  try {
    intact = checkContentHash(pdu.json);
  } catch {
    intact = false;
  }
  return intact ? 'intact' : 'redact-then-continue';
}

function checkedEvent(pdu: ParsedPdu): CheckedEvent {
  if (contentHashVerdict(pdu) === 'intact') {
    return { eventId: pdu.eventId, json: pdu.json, view: pdu.view, redactedForHash: false };
  }
  const redacted = redactEvent(pdu.json, pdu.rules);
  return {
    eventId: pdu.eventId,
    json: redacted,
    view: toEventView(redacted, pdu.rules, pdu.eventId),
    redactedForHash: true,
  };
}

export function checkPduOnReceipt(input: ReceiptCheckInput): ReceiptDecision {
  // 1. A valid event of the room version's format.
  if (!input.parsed.ok) {
    const error = input.parsed.error;
    return { decision: 'drop', check: RECEIPT_CHECK.format, reason: error.message, error };
  }
  const pdu = input.parsed.pdu;
  const rules = pdu.rules;

  // 2. Signatures.
  if (!input.signatures.valid) {
    return { decision: 'drop', check: RECEIPT_CHECK.signatures, reason: input.signatures.reason };
  }

  // 3. Content hash: on a mismatch, continue with the redacted copy.
  const event = checkedEvent(pdu);

  const context = (state: StateLookup): AuthContext => ({
    rules,
    state,
    isSignedBy: input.isSignedBy,
    verifyThirdPartySignature: input.verifyThirdPartySignature,
  });

  // 4. Auth against the event's own auth events, including the rules about that list. In
  // v12 the create event joins the lookup (never the list); a rejected one does not.
  const authLookupEvents =
    !rules.format.createInAuthEvents && input.createEvent !== undefined
      ? [input.createEvent, ...input.authEvents]
      : input.authEvents;
  const byAuthEvents = authorizeEvent(event.view, {
    ...context(stateFromAuthEvents(authLookupEvents, input.isRejected)),
    authEvents: { events: input.authEvents, isRejected: input.isRejected },
  });
  if (!byAuthEvents.allowed) {
    return {
      decision: 'reject',
      check: RECEIPT_CHECK.authEvents,
      rule: byAuthEvents.rule,
      reason: `not allowed by its auth events: ${byAuthEvents.reason}`,
      event,
    };
  }

  // 5. Auth against the state before the event.
  if (input.stateBefore !== null) {
    const byStateBefore = authorizeEvent(event.view, context(input.stateBefore));
    if (!byStateBefore.allowed) {
      return {
        decision: 'reject',
        check: RECEIPT_CHECK.stateBefore,
        rule: byStateBefore.rule,
        reason: `not allowed by the state before it: ${byStateBefore.reason}`,
        event,
      };
    }
  }

  // 6. Auth against the current state: failing here only soft-fails.
  if (input.currentState !== null) {
    const byCurrentState = authorizeEvent(event.view, context(input.currentState));
    if (!byCurrentState.allowed) {
      return {
        decision: 'soft-fail',
        check: RECEIPT_CHECK.currentState,
        rule: byCurrentState.rule,
        reason: `not allowed by the current state: ${byCurrentState.reason}`,
        event,
      };
    }
  }

  // 7. The Policy Server's recommendation.
  if (input.policyServer === 'not-signed') {
    return {
      decision: 'soft-fail',
      check: RECEIPT_CHECK.policyServer,
      reason: 'the Policy Server has not signed the event',
      event,
    };
  }

  return { decision: 'accept', event };
}
