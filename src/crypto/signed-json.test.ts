import { test } from 'node:test';
import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { canonicalJson, canonicalJsonBytes } from '../rooms/canonical-json.ts';
import { decodeBase64, encodeBase64 } from '../rooms/base64.ts';
import type { JsonObject } from '../rooms/json.ts';
import { parseSigningKeyFile, generateSigningKey } from './signing-key.ts';
import { checkEntitySignature, signaturesOf, signJson, verifyJsonSignature } from './signed-json.ts';

const key = parseSigningKeyFile('ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')[0]!;

// appendices.md § "Signing Details": the object is signed without signatures and unsigned.
test('signJson leaves unsigned alone and merges into existing signatures', () => {
  const input: JsonObject = {
    name: 'example.org',
    unsigned: { age_ts: 922834800000 },
    signatures: { 'other.org': { 'ed25519:x': 'abc' }, domain: { 'ed25519:old': 'def' } },
  };
  const signed = signJson(input, 'domain', key);
  assert.deepEqual(signed.unsigned, { age_ts: 922834800000 });
  assert.deepEqual(Object.keys(signaturesOf(signed, 'domain')).sort(), ['ed25519:1', 'ed25519:old']);
  assert.deepEqual(signaturesOf(signed, 'other.org'), { 'ed25519:x': 'abc' });
  // The input is not modified.
  assert.deepEqual(input.signatures, { 'other.org': { 'ed25519:x': 'abc' }, domain: { 'ed25519:old': 'def' } });
  // The signature covers only {"name":"example.org"}: check with tweetnacl.
  const signature = decodeBase64(signaturesOf(signed, 'domain')['ed25519:1']!);
  assert.equal(nacl.sign.detached.verify(canonicalJsonBytes({ name: 'example.org' }), signature, key.publicKey), true);
  assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', key.publicKey), true);
  // Changing unsigned or adding signatures does not break it; changing content does.
  assert.equal(verifyJsonSignature({ ...signed, unsigned: { x: 1 } }, 'domain', 'ed25519:1', key.publicKey), true);
  assert.equal(verifyJsonSignature({ ...signed, name: 'evil.org' }, 'domain', 'ed25519:1', key.publicKey), false);
});

test('verifyJsonSignature returns false, never throws, on broken input', () => {
  const signed: JsonObject = signJson({ a: 1 }, 'domain', key);
  const other = generateSigningKey();
  assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', other.publicKey), false);
  assert.equal(verifyJsonSignature(signed, 'elsewhere', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:2', key.publicKey), false);
  assert.equal(verifyJsonSignature(signed, 'domain', 'curve25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1, signatures: { domain: { 'ed25519:1': '!!!' } } }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1, signatures: { domain: { 'ed25519:1': 5 } } }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1, signatures: 'x' }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1.5, signatures: signed['signatures']! }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', new Uint8Array(3)), false);
});

test('signaturesOf ignores non-string values and keeps __proto__ a plain key', () => {
  const obj = JSON.parse('{"signatures":{"s":{"__proto__":"x","ed25519:1":"y","ed25519:2":{}}}}') as JsonObject;
  const sigs = signaturesOf(obj, 's');
  assert.deepEqual(Object.entries(sigs), [['__proto__', 'x'], ['ed25519:1', 'y']]);
  assert.deepEqual(signaturesOf({}, 's'), {});
});

test('checkEntitySignature follows appendix § "Checking for a Signature"', () => {
  const signed = signJson({ a: 1 }, 'domain', key);
  const known = (keyId: string) => (keyId === 'ed25519:1' ? key.publicKey : undefined);
  assert.deepEqual(checkEntitySignature(signed, 'domain', known), { ok: true, keyId: 'ed25519:1' });
  assert.deepEqual(checkEntitySignature(signed, 'nobody', known), { ok: false, reason: 'no-signatures' });
  assert.deepEqual(checkEntitySignature(signed, 'domain', () => undefined), { ok: false, reason: 'no-known-key' });
  assert.deepEqual(
    checkEntitySignature({ a: 1, signatures: { domain: { 'foo:1': 'AAAA' } } }, 'domain', known),
    { ok: false, reason: 'no-supported-key' },
  );
  assert.deepEqual(checkEntitySignature({ ...signed, a: 2 }, 'domain', known), { ok: false, reason: 'bad-signature' });
  // A second, unknown key does not hide a good one.
  const twoKeys = signJson(signed, 'domain', generateSigningKey('zz'));
  assert.deepEqual(checkEntitySignature(twoKeys, 'domain', known), { ok: true, keyId: 'ed25519:1' });
});

test('signJson output is the appendix shape (canonical order puts signatures where they sort)', () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', key);
  const sig = signaturesOf(signed, 'domain')['ed25519:1']!;
  assert.equal(canonicalJson(signed), `{"one":1,"signatures":{"domain":{"ed25519:1":"${sig}"}},"two":"Two"}`);
  assert.equal(encodeBase64(decodeBase64(sig)), sig);
});
