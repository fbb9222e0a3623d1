// content/server-server-api.md "Checks performed on receipt of a PDU" (1–7), "Rejection",
// "Soft failure", "Validating hashes and signatures on received events".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkPduOnReceipt,
  contentHashVerdict,
  type ReceiptCheckInput,
  type ReceiptDecision,
  type StateLookup,
} from './checks-on-receipt.ts';
import type { EventView } from './event-view.ts';
import { stateKeyOf } from './event-view.ts';
import { getField, type JsonObject, type JsonValue } from './json.ts';
import { computeEventId } from './event-id.ts';
import { buildCreateEvent, buildEvent, selectAuthEvents } from './pdu/build.ts';
import { parsePdu, type ParsedPdu } from './pdu/parse.ts';
import { rulesOf } from './pdu/testing.ts';

const ALICE = '@alice:a.example';
const BOB = '@bob:b.example';
const CAROL = '@carol:c.example';

function signed(event: JsonObject): JsonObject {
  const sender = getField(event, 'sender') as string;
  return { ...event, signatures: { [sender.slice(sender.indexOf(':') + 1)]: { 'ed25519:k': 'c2ln' } } };
}

function parsed(json: JsonObject, version: string): ParsedPdu {
  const result = parsePdu({ raw: json, roomVersion: version });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.pdu;
}

function stateOf(events: readonly EventView[]): StateLookup {
  const map = new Map<string, EventView>();
  for (const event of events) {
    if (event.stateKey !== undefined) map.set(stateKeyOf(event.type, event.stateKey), event);
  }
  return (type, stateKey) => map.get(stateKeyOf(type, stateKey));
}

/**
 * A room: create, Alice joins, public join rules, Bob joins, and (off the main line) Alice
 * bans Bob. Each event's auth events are selected from the state before it, as a server would.
 */
function room(version: string) {
  const rules = rulesOf(version);
  let ts = 1000;
  let n = 0;
  const create = buildCreateEvent({
    rules,
    sender: ALICE,
    content: {},
    originServerTs: ts++,
    roomIdLocalpart: 'room',
    eventIdLocalpart: `e${n++}`,
  });
  const createPdu = parsed(signed(create.event), version);
  const roomId = create.roomId;

  const make = (
    state: readonly EventView[],
    prev: ParsedPdu,
    fields: { type: string; sender: string; stateKey?: string; content: JsonObject },
  ): JsonObject => {
    const lookup = stateOf(state);
    const ev = { type: fields.type, stateKey: fields.stateKey, sender: fields.sender, content: fields.content };
    return signed(
      buildEvent({
        rules,
        roomId,
        ...fields,
        originServerTs: ts++,
        prevEvents: [{ eventId: prev.eventId, depth: prev.view.depth }],
        authEvents: selectAuthEvents(rules, ev, (t, k) => lookup(t, k)?.eventId),
        eventIdLocalpart: `e${n++}`,
      }),
    );
  };

  const s0 = [createPdu.view];
  const aliceJoin = parsed(make(s0, createPdu, { type: 'm.room.member', stateKey: ALICE, sender: ALICE, content: { membership: 'join' } }), version);
  const s1 = [...s0, aliceJoin.view];
  const joinRules = parsed(make(s1, aliceJoin, { type: 'm.room.join_rules', stateKey: '', sender: ALICE, content: { join_rule: 'public' } }), version);
  const s2 = [...s1, joinRules.view];
  const bobJoin = parsed(make(s2, joinRules, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } }), version);
  const s3 = [...s2, bobJoin.view];
  const ban = parsed(make(s3, bobJoin, { type: 'm.room.member', stateKey: BOB, sender: ALICE, content: { membership: 'ban' } }), version);
  const s4 = [...s2, ban.view];
  const message = (sender: string, state: readonly EventView[], body = 'hello') =>
    make(state, bobJoin, { type: 'm.room.message', sender, content: { msgtype: 'm.text', body } });

  const known = new Map<string, EventView>(
    [createPdu, aliceJoin, joinRules, bobJoin, ban].map((pdu) => [pdu.eventId, pdu.view]),
  );
  return { rules, version, createPdu, aliceJoin, joinRules, bobJoin, ban, afterBobJoin: s3, afterBan: s4, message, known };
}

type Room = ReturnType<typeof room>;

/** The input a server would build for `json`: auth events resolved from what it knows. */
function inputFor(r: Room, json: JsonObject, overrides: Partial<ReceiptCheckInput> = {}): ReceiptCheckInput {
  const result = parsePdu({ raw: json, roomVersion: r.version });
  const authEvents = result.ok
    ? result.pdu.view.authEvents.flatMap((id) => {
        const event = r.known.get(id);
        return event === undefined ? [] : [event];
      })
    : [];
  return {
    parsed: result,
    signatures: { valid: true },
    authEvents,
    createEvent: r.createPdu.view,
    isRejected: () => false,
    stateBefore: stateOf(r.afterBobJoin),
    currentState: stateOf(r.afterBobJoin),
    policyServer: 'not-in-use',
    isSignedBy: () => true,
    verifyThirdPartySignature: () => false,
    ...overrides,
  };
}

function assertDecision(decision: ReceiptDecision, expected: string, check?: number): void {
  const detail = 'reason' in decision ? `${decision.decision} at ${decision.check}: ${decision.reason}` : decision.decision;
  assert.equal(decision.decision, expected, detail);
  if (check !== undefined && 'check' in decision) assert.equal(decision.check, check, detail);
}

for (const version of ['1', '3', '10', '12']) {
  describe(`checks on receipt, room v${version}`, () => {
    const r = room(version);

    it('accepts an event that passes all checks', () => {
      const decision = checkPduOnReceipt(inputFor(r, r.message(BOB, r.afterBobJoin)));
      assertDecision(decision, 'accept');
      assert.ok(decision.decision === 'accept' && !decision.event.redactedForHash);
    });

    it('the room\'s own events pass, create event included', () => {
      for (const pdu of [r.createPdu, r.aliceJoin, r.joinRules, r.bobJoin]) {
        const decision = checkPduOnReceipt(
          inputFor(r, pdu.json, { stateBefore: null, currentState: null }),
        );
        assertDecision(decision, 'accept');
      }
    });

    it('1: an invalid event is dropped with the parse error', () => {
      const broken = { ...r.message(BOB, r.afterBobJoin), depth: -5 };
      const decision = checkPduOnReceipt(inputFor(r, broken));
      assertDecision(decision, 'drop', 1);
      assert.ok(decision.decision === 'drop' && decision.error?.code === 'bad-field');
    });

    it('2: bad signatures drop the event', () => {
      const decision = checkPduOnReceipt(
        inputFor(r, r.message(BOB, r.afterBobJoin), { signatures: { valid: false, reason: 'no valid signature from b.example' } }),
      );
      assertDecision(decision, 'drop', 2);
      assert.ok(decision.decision === 'drop' && decision.reason.includes('b.example'));
    });

    it('3: a content hash mismatch continues with the redacted copy', () => {
      const original = r.message(BOB, r.afterBobJoin);
      const tampered = { ...original, content: { msgtype: 'm.text', body: 'tampered' } };
      const tamperedPdu = parsed(tampered, version);
      assert.equal(contentHashVerdict(tamperedPdu), 'redact-then-continue');
      assert.equal(contentHashVerdict(parsed(original, version)), 'intact');
      const decision = checkPduOnReceipt(inputFor(r, tampered));
      assertDecision(decision, 'accept');
      assert.ok(decision.decision === 'accept');
      assert.equal(decision.event.redactedForHash, true);
      assert.deepEqual(decision.event.view.content, {});
      assert.deepEqual(getField(decision.event.json, 'content'), {});
      // The event ID does not change: v3+ hash the redacted form, v1–v2 carry it.
      assert.equal(decision.event.eventId, parsed(original, version).eventId);
    });

    it('3 then 4: a redacted membership still authorises as a membership', () => {
      const tamperedJoin = { ...r.bobJoin.json, content: { membership: 'join', displayname: 'evil' } };
      const decision = checkPduOnReceipt(
        inputFor(r, tamperedJoin, { stateBefore: stateOf(r.afterBobJoin.filter((e) => e.eventId !== r.bobJoin.eventId)) }),
      );
      assertDecision(decision, 'accept');
      assert.ok(decision.decision === 'accept' && decision.event.redactedForHash);
      assert.deepEqual(decision.event.view.content, { membership: 'join' });
    });

    it('4: not allowed by its own auth events (the sender never joined) is rejected', () => {
      const decision = checkPduOnReceipt(inputFor(r, r.message(CAROL, r.afterBobJoin)));
      assertDecision(decision, 'reject', 4);
    });

    it('4: an auth event that was itself rejected rejects the event (auth rule "rejected" entries)', () => {
      const decision = checkPduOnReceipt(
        inputFor(r, r.message(BOB, r.afterBobJoin), { isRejected: (id) => id === r.bobJoin.eventId }),
      );
      assertDecision(decision, 'reject', 4);
    });

    it('4: an auth event that cannot be found rejects the event', () => {
      const input = inputFor(r, r.message(BOB, r.afterBobJoin));
      const decision = checkPduOnReceipt({
        ...input,
        authEvents: input.authEvents.filter((e) => e.eventId !== r.bobJoin.eventId),
      });
      assertDecision(decision, 'reject', 4);
    });

    it('4: auth events the selection would not pick are rejected', () => {
      const input = inputFor(r, r.message(BOB, r.afterBobJoin));
      // Same event, auth events claim Alice's membership too, which a message by Bob does not select.
      const json = r.message(BOB, r.afterBobJoin);
      const authEvents = (getField(json, 'auth_events') as JsonValue[]).slice();
      authEvents.push(r.rules.format.eventIdFormat === 'v1' ? [r.aliceJoin.eventId, {}] : r.aliceJoin.eventId);
      const widened = { ...json, auth_events: authEvents };
      const decision = checkPduOnReceipt({
        ...inputFor(r, widened),
        authEvents: [...input.authEvents, r.aliceJoin.view],
      });
      assertDecision(decision, 'reject', 4);
    });

    it('5: not allowed by the state before it (banned there) is rejected', () => {
      const decision = checkPduOnReceipt(
        inputFor(r, r.message(BOB, r.afterBobJoin), { stateBefore: stateOf(r.afterBan) }),
      );
      assertDecision(decision, 'reject', 5);
      assert.ok(decision.decision === 'reject' && decision.rule.length > 0);
    });

    it('6: allowed before it but not by the current state is soft-failed ("Soft failure" example)', () => {
      const decision = checkPduOnReceipt(
        inputFor(r, r.message(BOB, r.afterBobJoin), { currentState: stateOf(r.afterBan) }),
      );
      assertDecision(decision, 'soft-fail', 6);
    });

    it('5 and 6 are skipped when the caller has no state to check against', () => {
      const decision = checkPduOnReceipt(
        inputFor(r, r.message(BOB, r.afterBobJoin), { stateBefore: null, currentState: null }),
      );
      assertDecision(decision, 'accept');
    });

    it('7: no Policy Server signature soft-fails; a signature or no Policy Server accepts', () => {
      const json = r.message(BOB, r.afterBobJoin);
      assertDecision(checkPduOnReceipt(inputFor(r, json, { policyServer: 'not-signed' })), 'soft-fail', 7);
      assertDecision(checkPduOnReceipt(inputFor(r, json, { policyServer: 'signed' })), 'accept');
      // Check 6 comes first.
      assertDecision(
        checkPduOnReceipt(inputFor(r, json, { policyServer: 'not-signed', currentState: stateOf(r.afterBan) })),
        'soft-fail',
        6,
      );
    });

    it('the earliest failing check decides: 2 before 4, 4 before 5', () => {
      const carol = r.message(CAROL, r.afterBobJoin);
      assertDecision(checkPduOnReceipt(inputFor(r, carol, { signatures: { valid: false, reason: 'x' } })), 'drop', 2);
      assertDecision(checkPduOnReceipt(inputFor(r, carol, { stateBefore: stateOf(r.afterBan) })), 'reject', 4);
    });
  });
}

describe('checks on receipt, v12 create event', () => {
  const r = room('12');

  it('4: in v12 the create event is needed though never listed; a rejected or absent one rejects', () => {
    const json = r.message(BOB, r.afterBobJoin);
    assertDecision(checkPduOnReceipt(inputFor(r, json)), 'accept');
    assertDecision(checkPduOnReceipt(inputFor(r, json, { createEvent: undefined })), 'reject', 4);
    assertDecision(
      checkPduOnReceipt(inputFor(r, json, { isRejected: (id) => id === r.createPdu.eventId })),
      'reject',
      4,
    );
    assert.ok(!r.bobJoin.view.authEvents.includes(r.createPdu.eventId));
    assert.equal(computeEventId(r.createPdu.json, r.rules), r.createPdu.eventId);
  });
});
