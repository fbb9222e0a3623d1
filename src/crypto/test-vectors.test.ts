// Every vector in matrix-spec/test-vectors.md §1–§7, end to end through the public API.
// "Spec" vectors are published in the spec; "Derived" ones are regression values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { decodeBase64, encodeBase64, encodeBase64Url } from '../rooms/base64.ts';
import { canonicalJson, canonicalJsonBytes, parseJsonStrict } from '../rooms/canonical-json.ts';
import { computeEventId, roomIdFromCreateEvent, eventIdMatchesFormat } from '../rooms/event-id.ts';
import { checkContentHash, computeReferenceHash } from '../rooms/hashes.ts';
import type { JsonObject } from '../rooms/json.ts';
import { redactEvent } from '../rooms/redaction.ts';
import { roomVersionRules } from '../rooms/room-versions.ts';
import type { RoomVersionRules } from '../rooms/room-versions.ts';
import { checkEventHashes, signEvent, verifyEventSignature } from './event-signing.ts';
import { signJson, signaturesOf, verifyJsonSignature } from './signed-json.ts';
import { parseSigningKeyFile } from './signing-key.ts';

const rules = (id: string): RoomVersionRules => roomVersionRules(id)!;
const SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
const key = parseSigningKeyFile(`ed25519 1 ${SEED}`)[0]!;
const parse = (text: string) => parseJsonStrict(text, { strictNumbers: true }) as JsonObject;

test('§1 Unpadded Base64 (Spec)', () => {
  const table: [string, string][] = [
    ['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy'],
  ];
  for (const [input, output] of table) {
    assert.equal(encodeBase64(new TextEncoder().encode(input)), output);
    assert.equal(new TextDecoder().decode(decodeBase64(output)), input);
  }
});

test('§2 Canonical JSON (Spec) and the code-point ordering note (Derived)', () => {
  const table: [string, string][] = [
    ['{}', '{}'],
    ['{ "one": 1, "two": "Two" }', '{"one":1,"two":"Two"}'],
    ['{ "b": "2", "a": "1" }', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      '{"auth":{"success":true,"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"medium":"email","address":"john.doe@example.org"},{"medium":"msisdn","address":"123456789"}]}}}',
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{ "a": "日本語" }', '{"a":"日本語"}'],
    ['{ "本": 2, "日": 1 }', '{"日":1,"本":2}'],
    ['{ "a": "\\u65E5" }', '{"a":"日"}'],
    ['{ "a": null }', '{"a":null}'],
    ['{ "a": -0, "b": 1e10 }', '{"a":0,"b":10000000000}'],
  ];
  for (const [input, output] of table) assert.equal(canonicalJson(parseJsonStrict(input)), output);
  assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFF01': 2 }), '{"！":2,"😀":1}');
});

test('§3 Signing key: seed bytes (Spec) and public key (Derived, matches ruma-signatures)', () => {
  assert.equal(Buffer.from(key.seed).toString('hex'), '6090c103d5e7af6b15a970fd563ed75549e6159719ae5c3c31dee4316fb75c0d');
  assert.equal(key.keyId, 'ed25519:1');
  assert.equal(key.publicKeyBase64, 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
  assert.deepEqual(key.publicKey, nacl.sign.keyPair.fromSeed(key.seed).publicKey);
});

test('§4 JSON signing (Spec): empty object and data object', () => {
  const table: [JsonObject, string, string][] = [
    [{}, 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ', '{"signatures":{"domain":{"ed25519:1":"SIG"}}}'],
    [
      { one: 1, two: 'Two' },
      'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      '{"one":1,"signatures":{"domain":{"ed25519:1":"SIG"}},"two":"Two"}',
    ],
  ];
  for (const [input, signature, output] of table) {
    const signed = signJson(input, 'domain', key);
    assert.equal(signaturesOf(signed, 'domain')['ed25519:1'], signature);
    assert.equal(canonicalJson(signed), output.replace('SIG', signature));
    assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', key.publicKey), true);
    assert.equal(nacl.sign.detached.verify(canonicalJsonBytes(input), decodeBase64(signature), key.publicKey), true);
  }
});

const EVENT_5A =
  '{"room_id":"!x:domain","sender":"@a:domain","origin":"domain","origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X","content":{},"prev_events":[],"auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}}';
const EVENT_5B =
  '{"content":{"body":"Here is the message content"},"event_id":"$0:domain","origin":"domain","origin_server_ts":1000000,"type":"m.room.message","room_id":"!r:domain","sender":"@u:domain","signatures":{},"unsigned":{"age_ts":1000000}}';

function signatureOf(event: JsonObject): string | undefined {
  return signaturesOf(event, 'domain')['ed25519:1'];
}

test('§5a Event signing, minimal event (Spec, v1–v10 redaction)', () => {
  const input = parse(EVENT_5A);
  for (const version of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    const signed = signEvent(input, 'domain', key, rules(version));
    assert.deepEqual(signed['hashes'], { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' }, version);
    assert.equal(signatureOf(signed), 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg', version);
    assert.deepEqual(signed['unsigned'], { age_ts: 1000000 });
    // All other fields unchanged.
    const { hashes: _h, signatures: _s, ...rest } = signed;
    const { hashes: _h2, signatures: _s2, ...restInput } = input;
    assert.deepEqual(rest, restInput);
    assert.equal(verifyEventSignature(signed, 'domain', 'ed25519:1', key.publicKey, rules(version)), true);
    assert.equal(checkEventHashes(signed), 'ok');
  }
});

test('§5b Event signing, redactable content (Spec, v1–v10 redaction)', () => {
  const input = parse(EVENT_5B);
  const signed = signEvent(input, 'domain', key, rules('1'));
  assert.deepEqual(signed['hashes'], { sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' });
  assert.equal(signatureOf(signed), 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA');
  assert.deepEqual(signed['content'], { body: 'Here is the message content' });
  // The signature covers the redacted event, so it survives redaction; the hash does not.
  const redacted = redactEvent(signed, rules('1'));
  assert.deepEqual(redacted['content'], {});
  assert.equal(verifyEventSignature(redacted, 'domain', 'ed25519:1', key.publicKey, rules('1')), true);
  assert.equal(checkEventHashes(signed), 'ok');
  assert.equal(checkEventHashes(redacted), 'hash-mismatch');
  const edited = { ...signed, content: { body: 'Edited' } };
  assert.equal(verifyEventSignature(edited, 'domain', 'ed25519:1', key.publicKey, rules('1')), true);
  assert.equal(checkContentHash(edited), false);
});

test('§5c Derived: v11+ redaction signatures and reference hashes / event IDs', () => {
  const a = parse(EVENT_5A);
  const b = parse(EVENT_5B);
  for (const version of ['11', '12']) {
    assert.equal(signatureOf(signEvent(a, 'domain', key, rules(version))), 'Jxp+1glFcZM+nnHpY0EkedRR7u0VmKsJYGnQqIvqus3UvL5X/p1y6wSkLhGoTBel6MZ9lrMIzUqrjqFquWJKBw');
    assert.equal(signatureOf(signEvent(b, 'domain', key, rules(version))), '4WQB/6LN2OtkUN/+18xUNB/U4RTX1N3EeKBdlCxux08YO8izKDrSRqML1XB8V97IK7AujkNO1xMl7TaBLA4kDw');
  }
  const signedOld = signEvent(a, 'domain', key, rules('3'));
  assert.equal(computeEventId(signedOld, rules('3')), '$8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc');
  assert.equal(computeEventId(signedOld, rules('4')), '$8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc');
  assert.equal(computeEventId(signedOld, rules('10')), '$8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc');
  // The reference hash does not depend on signatures or unsigned.
  assert.equal(
    encodeBase64(computeReferenceHash({ ...signedOld, signatures: {}, unsigned: { y: 2 } }, rules('3'))),
    '8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc',
  );
  const signedNew = signEvent(a, 'domain', key, rules('11'));
  const standardV11 = encodeBase64(computeReferenceHash(signedNew, rules('11')));
  assert.equal(`$${standardV11}`, '$70O/oKlXzFbkfu0KE88USi98DjSWrOELrPj+8tisl8I');
  assert.equal(computeEventId(signedNew, rules('11')), '$70O_oKlXzFbkfu0KE88USi98DjSWrOELrPj-8tisl8I');
  assert.equal(encodeBase64Url(computeReferenceHash(signedNew, rules('12'))), '70O_oKlXzFbkfu0KE88USi98DjSWrOELrPj-8tisl8I');
});

test('§7 Event ID and room ID formats per room version', () => {
  assert.equal(eventIdMatchesFormat('$CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o', rules('3')), true);
  assert.equal(eventIdMatchesFormat('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', rules('4')), true);
  assert.equal(eventIdMatchesFormat('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', rules('3')), false);
  assert.equal(eventIdMatchesFormat('$0:domain', rules('1')), true);
  assert.equal(eventIdMatchesFormat('$0:domain', rules('4')), false);
  // v12: the room ID is the create event's URL-safe reference hash with a `!`.
  const create = signEvent(
    parse('{"type":"m.room.create","state_key":"","sender":"@a:domain","origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"content":{"room_version":"12"}}'),
    'domain',
    key,
    rules('12'),
  );
  const roomId = roomIdFromCreateEvent(create, rules('12'));
  assert.equal(roomId, `!${computeEventId(create, rules('12')).slice(1)}`);
  assert.match(roomId, /^![A-Za-z0-9_-]{43}$/);
});
