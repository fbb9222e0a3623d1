import { test } from 'node:test';
import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { canonicalJsonBytes } from '../rooms/canonical-json.ts';
import { decodeBase64 } from '../rooms/base64.ts';
import { checkContentHash } from '../rooms/hashes.ts';
import type { JsonObject } from '../rooms/json.ts';
import { redactEvent } from '../rooms/redaction.ts';
import { roomVersionRules } from '../rooms/room-versions.ts';
import type { RoomVersionRules } from '../rooms/room-versions.ts';
import { checkEventHashes, checkEventSignatures, requiredSignersOf, signEvent, verifyEventSignature } from './event-signing.ts';
import { signaturesOf } from './signed-json.ts';
import { generateSigningKey } from './signing-key.ts';

const rules = (id: string): RoomVersionRules => roomVersionRules(id)!;
const alice = generateSigningKey('a_1');
const bob = generateSigningKey('b_1');

const message: JsonObject = {
  type: 'm.room.message',
  room_id: '!r:alice.example',
  sender: '@a:alice.example',
  origin_server_ts: 1,
  depth: 2,
  prev_events: [],
  auth_events: [],
  content: { body: 'hello' },
  unsigned: { age: 3 },
};

// server-server-api.md § "Adding hashes and signatures to outgoing events".
test('signEvent hashes the full event and signs the redacted one', () => {
  for (const version of ['1', '6', '11', '12']) {
    const signed = signEvent(message, 'alice.example', alice, rules(version));
    assert.equal(checkContentHash(signed), true);
    assert.deepEqual(signed['unsigned'], { age: 3 });
    const signature = decodeBase64(signaturesOf(signed, 'alice.example')['ed25519:a_1']!);
    const redacted = redactEvent(signed, rules(version));
    delete redacted['signatures'];
    assert.equal(nacl.sign.detached.verify(canonicalJsonBytes(redacted), signature, alice.publicKey), true, version);
    assert.equal(verifyEventSignature(signed, 'alice.example', 'ed25519:a_1', alice.publicKey, rules(version)), true);
    assert.equal(verifyEventSignature(signed, 'alice.example', 'ed25519:a_1', bob.publicKey, rules(version)), false);
  }
});

test('a second server signature is merged, not replaced', () => {
  const once = signEvent(message, 'alice.example', alice, rules('12'));
  const twice = signEvent(once, 'bob.example', bob, rules('12'));
  assert.deepEqual(Object.keys(twice['signatures'] as JsonObject).sort(), ['alice.example', 'bob.example']);
  assert.equal(verifyEventSignature(twice, 'alice.example', 'ed25519:a_1', alice.publicKey, rules('12')), true);
  assert.equal(verifyEventSignature(twice, 'bob.example', 'ed25519:b_1', bob.publicKey, rules('12')), true);
});

// § "Validating hashes and signatures on received events".
test('received events: signatures hold after redaction, hash mismatch means use the redacted copy', () => {
  const signed = signEvent(message, 'alice.example', alice, rules('10'));
  assert.equal(checkEventHashes(signed), 'ok');
  const tampered = { ...signed, content: { body: 'evil' } };
  assert.equal(verifyEventSignature(tampered, 'alice.example', 'ed25519:a_1', alice.publicKey, rules('10')), true);
  assert.equal(checkEventHashes(tampered), 'hash-mismatch');
  const redacted = redactEvent(tampered, rules('10'));
  assert.equal(verifyEventSignature(redacted, 'alice.example', 'ed25519:a_1', alice.publicKey, rules('10')), true);
  // Changing an essential field breaks the signature.
  assert.equal(verifyEventSignature({ ...signed, depth: 3 }, 'alice.example', 'ed25519:a_1', alice.publicKey, rules('10')), false);
});

test('requiredSignersOf: sender server; v1–v2 also the event ID server', () => {
  const event: JsonObject = { ...message, event_id: '$x:bob.example' };
  assert.deepEqual(requiredSignersOf(event, rules('1')), ['alice.example', 'bob.example']);
  assert.deepEqual(requiredSignersOf(event, rules('2')), ['alice.example', 'bob.example']);
  assert.deepEqual(requiredSignersOf(event, rules('3')), ['alice.example']);
  assert.deepEqual(requiredSignersOf({ ...message, event_id: '$x:alice.example' }, rules('1')), ['alice.example']);
  assert.deepEqual(requiredSignersOf({ type: 'X' }, rules('12')), []);
});

test('checkEventSignatures: every required server, unknown keys skipped, known keys must verify', () => {
  const keys = new Map([
    ['alice.example ed25519:a_1', alice.publicKey],
    ['bob.example ed25519:b_1', bob.publicKey],
  ]);
  const lookup = (server: string, keyId: string) => keys.get(`${server} ${keyId}`);
  const v1Event: JsonObject = { ...message, event_id: '$x:bob.example' };
  const aliceOnly = signEvent(v1Event, 'alice.example', alice, rules('1'));
  assert.deepEqual(checkEventSignatures(aliceOnly, rules('1'), lookup), { ok: false, server: 'bob.example', reason: 'no-known-key' });
  const both = signEvent(aliceOnly, 'bob.example', bob, rules('1'));
  assert.deepEqual(checkEventSignatures(both, rules('1'), lookup), { ok: true });
  // An extra signature from an unknown key is ignored.
  const extra = signEvent(both, 'alice.example', generateSigningKey('unknown'), rules('1'));
  assert.deepEqual(checkEventSignatures(extra, rules('1'), lookup), { ok: true });
  // A wrong signature from a known key fails.
  const forged = signEvent(both, 'alice.example', generateSigningKey('a_1'), rules('1'));
  assert.deepEqual(checkEventSignatures(forged, rules('1'), lookup), { ok: false, server: 'alice.example', reason: 'bad-signature' });
  // v3+: only the sender's server is required.
  const v3 = signEvent(message, 'alice.example', alice, rules('3'));
  assert.deepEqual(checkEventSignatures(v3, rules('3'), lookup), { ok: true });
  assert.deepEqual(checkEventSignatures(v3, rules('3'), () => undefined), { ok: false, server: 'alice.example', reason: 'no-known-key' });
  assert.deepEqual(checkEventSignatures({ type: 'X' }, rules('3'), lookup), { ok: false, server: '', reason: 'no-signer' });
});
