// server-server § "Request Authentication"; test-vectors.md § 9 (header format).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nacl from 'tweetnacl';
import { decodeBase64, encodeBase64 } from '../rooms/base64.ts';
import { canonicalJson } from '../rooms/canonical-json.ts';
import { generateSigningKey } from './signing-key.ts';
import {
  formatXMatrixHeader,
  isXMatrixHeader,
  parseXMatrixHeader,
  requestSigningObject,
  signRequest,
  verifyRequestSignature,
  XMatrixHeaderError,
} from './x-matrix.ts';

const key = generateSigningKey('key1');
const parts = {
  method: 'POST',
  uri: '/_matrix/federation/v1/send/abc?x=1',
  origin: 'origin.hs.example.com',
  destination: 'destination.hs.example.com',
  content: { pdus: [], edus: [{ edu_type: 'm.typing' }] },
};

describe('X-Matrix header format (test-vectors.md § 9)', () => {
  test('the spec example parses to its four parameters', () => {
    const header =
      'X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF..."';
    assert.deepEqual(parseXMatrixHeader(header), {
      origin: 'origin.hs.example.com',
      destination: 'destination.hs.example.com',
      key: 'ed25519:key1',
      sig: 'ABCDEF...',
    });
  });

  test('senders write one space, lower-case names, quoted values, no spaces around commas', () => {
    assert.equal(
      formatXMatrixHeader({ origin: 'a.example', destination: 'b.example:8448', key: 'ed25519:k', sig: 'c2ln' }),
      'X-Matrix origin="a.example",destination="b.example:8448",key="ed25519:k",sig="c2ln"',
    );
  });

  test('receivers: case-insensitive names and scheme, bare values with colons, spaces around commas, escapes, unknown params', () => {
    const parsed = parseXMatrixHeader(
      'x-matrix   ORIGIN=origin.example:8448 ,\tKey = "ed25519:a\\"b" , sig=abc+/9, extra="ignored",Destination="dest.example"',
    );
    assert.deepEqual(parsed, { origin: 'origin.example:8448', destination: 'dest.example', key: 'ed25519:a"b', sig: 'abc+/9' });
  });

  test('destination is optional (senders before v1.3)', () => {
    assert.equal(parseXMatrixHeader('X-Matrix origin=a.example,key="ed25519:k",sig="s"').destination, undefined);
  });

  test('malformed headers are typed errors', () => {
    for (const bad of [
      'Bearer abc',
      'X-Matrix',
      'X-Matrix origin="a.example",key="ed25519:k"', // no sig
      'X-Matrix origin="a.example",key="ed25519:k",sig="unterminated',
      'X-Matrix origin="a.example",origin="b.example",key="k",sig="s"', // duplicate
      'X-Matrix origin="not a server",key="k",sig="s"',
      'X-Matrix origin="a.example",destination="bad name!",key="k",sig="s"',
      'X-Matrix origin="a.example" key="k",sig="s"', // missing comma
      'X-Matrix origin=,key="k",sig="s"',
    ]) {
      assert.throws(() => parseXMatrixHeader(bad), XMatrixHeaderError, bad);
    }
  });

  test('isXMatrixHeader recognises the scheme only', () => {
    assert.equal(isXMatrixHeader('X-Matrix origin=a'), true);
    assert.equal(isXMatrixHeader('x-matrix origin=a'), true);
    assert.equal(isXMatrixHeader('X-Matrixx origin=a'), false);
    assert.equal(isXMatrixHeader('Bearer x'), false);
  });
});

describe('X-Matrix signing and verification', () => {
  test('the signature is ed25519 over the canonical signing object (checked with tweetnacl)', () => {
    const auth = parseXMatrixHeader(signRequest(parts, key));
    assert.equal(auth.key, 'ed25519:key1');
    assert.equal(auth.origin, parts.origin);
    assert.equal(auth.destination, parts.destination);
    const bytes = new TextEncoder().encode(canonicalJson(requestSigningObject(parts)));
    assert.ok(nacl.sign.detached.verify(bytes, new Uint8Array(Buffer.from(auth.sig, 'base64')), key.publicKey));
  });

  test('sign → verify round trip, with and without a body', () => {
    for (const content of [parts.content, undefined]) {
      const auth = parseXMatrixHeader(signRequest({ ...parts, content }, key));
      assert.ok(verifyRequestSignature({ method: parts.method, uri: parts.uri, content }, auth, parts.destination, key.publicKey));
    }
  });

  test('a header without destination still verifies: the signed JSON names the receiver', () => {
    const signed = parseXMatrixHeader(signRequest(parts, key));
    const legacy = { ...signed, destination: undefined };
    assert.ok(verifyRequestSignature({ method: 'POST', uri: parts.uri, content: parts.content }, legacy, parts.destination, key.publicKey));
  });

  test('tampered method, uri, body, destination, origin or key fail', () => {
    const auth = parseXMatrixHeader(signRequest(parts, key));
    const request = { method: parts.method, uri: parts.uri, content: parts.content };
    const other = generateSigningKey('key1');
    const cases: Array<[string, boolean]> = [
      ['method', verifyRequestSignature({ ...request, method: 'PUT' }, auth, parts.destination, key.publicKey)],
      ['uri', verifyRequestSignature({ ...request, uri: '/_matrix/federation/v1/send/abd?x=1' }, auth, parts.destination, key.publicKey)],
      ['query', verifyRequestSignature({ ...request, uri: '/_matrix/federation/v1/send/abc' }, auth, parts.destination, key.publicKey)],
      ['body', verifyRequestSignature({ ...request, content: { pdus: [], edus: [] } }, auth, parts.destination, key.publicKey)],
      ['no body', verifyRequestSignature({ ...request, content: undefined }, auth, parts.destination, key.publicKey)],
      ['destination', verifyRequestSignature(request, auth, 'evil.example', key.publicKey)],
      ['origin', verifyRequestSignature(request, { ...auth, origin: 'evil.example' }, parts.destination, key.publicKey)],
      ['public key', verifyRequestSignature(request, auth, parts.destination, other.publicKey)],
      ['signature', verifyRequestSignature(request, { ...auth, sig: flipFirstByte(auth.sig) }, parts.destination, key.publicKey)],
    ];
    for (const [what, ok] of cases) assert.equal(ok, false, what);
  });

  test('a non-ed25519 key id never verifies', () => {
    const auth = parseXMatrixHeader(signRequest(parts, key));
    const request = { method: parts.method, uri: parts.uri, content: parts.content };
    assert.equal(verifyRequestSignature(request, { ...auth, key: 'curve25519:key1' }, parts.destination, key.publicKey), false);
  });
});

/** A signature with one bit changed. (Editing the base64 text can leave the bytes intact:
 * the last character of an 86-character signature carries 4 unused bits.) */
function flipFirstByte(sig: string): string {
  const bytes = decodeBase64(sig);
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return encodeBase64(bytes);
}
