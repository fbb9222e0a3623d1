import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOM_VERSIONS, roomVersionRules, DEFAULT_ROOM_VERSION } from './room-versions.ts';

// content/rooms/v1.md … v12.md: versions 1–12 are all stable.
test('room versions 1–12 are known, unknown ones are not', () => {
  assert.deepEqual([...ROOM_VERSIONS.keys()], ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
  assert.equal(roomVersionRules('13'), undefined);
  assert.equal(roomVersionRules('org.example.custom'), undefined);
  assert.equal(DEFAULT_ROOM_VERSION, '12');
});

test('each version changes only what its spec page says', () => {
  const r = (id: string) => roomVersionRules(id)!;
  assert.equal(r('1').stateResolution, 'v1');
  assert.equal(r('2').stateResolution, 'v2');
  assert.equal(r('11').stateResolution, 'v2');
  assert.equal(r('12').stateResolution, 'v2.1');
  assert.equal(r('3').format.eventIdFormat, 'v3');
  assert.equal(r('4').format.eventIdFormat, 'v4');
  assert.equal(r('4').signatures.enforceKeyValidity, false);
  assert.equal(r('5').signatures.enforceKeyValidity, true);
  assert.equal(r('5').strictCanonicalJson, false);
  assert.equal(r('6').strictCanonicalJson, true);
  assert.equal(r('6').auth.knocking, false);
  assert.equal(r('7').auth.knocking, true);
  assert.equal(r('8').auth.restrictedJoinRule, true);
  assert.equal(r('8').redaction.keepMemberJoinAuthorisedVia, false);
  assert.equal(r('9').redaction.keepMemberJoinAuthorisedVia, true);
  assert.equal(r('10').auth.integerPowerLevels, true);
  assert.equal(r('11').auth.useCreateSender, true);
  assert.equal(r('11').auth.privilegeCreators, false);
  assert.equal(r('12').auth.privilegeCreators, true);
  assert.equal(r('12').format.createInAuthEvents, false);
  assert.equal(r('11').format.createInAuthEvents, true);
});
