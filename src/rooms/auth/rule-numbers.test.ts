import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authEventsRule,
  createRule,
  joinRule,
  memberRule,
  powerLevelsRule,
  topRule,
} from './rule-numbers.ts';
import { rulesOf } from './testing.ts';

// The numbers as printed in each version's "Authorisation rules".
test('top-level rule numbers follow each version page', () => {
  const numbers = (v: string) =>
    (['create', 'authEvents', 'federate', 'member', 'senderJoined', 'thirdPartyInvite', 'requiredLevel', 'stateKeyOwner', 'powerLevels', 'allow'] as const).map(
      (name) => topRule(rulesOf(v), name),
    );
  assert.deepEqual(numbers('1'), ['1', '2', '3', '5', '6', '7', '8', '9', '10', '12']);
  assert.deepEqual(numbers('3'), ['1', '2', '3', '5', '6', '7', '8', '9', '10', '11']);
  assert.deepEqual(numbers('6'), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.deepEqual(numbers('11'), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.deepEqual(numbers('12'), ['1', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
  assert.equal(topRule(rulesOf('1'), 'aliases'), '4');
  assert.equal(topRule(rulesOf('2'), 'redaction'), '11');
  assert.equal(topRule(rulesOf('12'), 'roomId'), '2');
});

test('sub-rule numbers follow each version page', () => {
  assert.equal(joinRule(rulesOf('12'), 'selfOnly'), '5.3.2');
  assert.equal(joinRule(rulesOf('6'), 'selfOnly'), '4.2.2');
  assert.equal(joinRule(rulesOf('1'), 'public'), '5.2.5');
  assert.equal(joinRule(rulesOf('8'), 'public'), '4.3.6');
  assert.equal(joinRule(rulesOf('8'), 'restricted'), '4.3.5');
  assert.equal(memberRule(rulesOf('6'), 'unknown'), '4.6');
  assert.equal(memberRule(rulesOf('7'), 'knock'), '4.6');
  assert.equal(memberRule(rulesOf('7'), 'unknown'), '4.7');
  assert.equal(memberRule(rulesOf('9'), 'authorisedVia'), '4.2');
  assert.equal(memberRule(rulesOf('12'), 'knock'), '5.7');
  assert.equal(createRule(rulesOf('10'), 'creator'), '1.4');
  assert.equal(createRule(rulesOf('11'), 'allow'), '1.4');
  assert.equal(createRule(rulesOf('12'), 'additionalCreators'), '1.4');
  assert.equal(createRule(rulesOf('12'), 'noRoomId'), '1.2');
  assert.equal(authEventsRule(rulesOf('11'), 'roomId'), '2.5');
  // v12's source text numbers it 3.5; the rendered list (no 3.4 rule any more) shows 3.4.
  assert.equal(authEventsRule(rulesOf('12'), 'roomId'), '3.4');
  assert.equal(powerLevelsRule(rulesOf('9'), 'users'), '9.1');
  assert.equal(powerLevelsRule(rulesOf('1'), 'usersNew'), '10.7');
  assert.equal(powerLevelsRule(rulesOf('10'), 'users'), '9.3');
  assert.equal(powerLevelsRule(rulesOf('10'), 'usersNew'), '9.9');
  assert.equal(powerLevelsRule(rulesOf('12'), 'noCreators'), '10.4');
  assert.equal(powerLevelsRule(rulesOf('12'), 'usersNew'), '10.10');
});
