import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Base64Error, decodeBase64, encodeBase64, encodeBase64Url, tryDecodeBase64 } from './base64.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

// content/appendices.md § "Unpadded Base64": the published examples.
const examples: [string, string][] = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
];

for (const [input, output] of examples) {
  test(`Unpadded Base64 example ${JSON.stringify(input)} → ${JSON.stringify(output)}`, () => {
    assert.equal(encodeBase64(utf8(input)), output);
    assert.equal(encodeBase64Url(utf8(input)), output);
    assert.deepEqual(decodeBase64(output), utf8(input));
  });
}

test('Unpadded Base64: decoders accept padding (appendix: SHOULD accept with or without)', () => {
  assert.deepEqual(decodeBase64('Zg=='), utf8('f'));
  assert.deepEqual(decodeBase64('Zm8='), utf8('fo'));
  assert.deepEqual(decodeBase64('Zm9v'), utf8('foo'));
});

test('URL-safe unpadded Base64 uses - and _ (appendix § "URL-safe unpadded Base64")', () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
  assert.equal(encodeBase64(bytes), '+/+/');
  assert.equal(encodeBase64Url(bytes), '-_-_');
  assert.deepEqual(decodeBase64('+/+/'), bytes);
  assert.deepEqual(decodeBase64('-_-_'), bytes);
});

test('decodeBase64 accepts non-zero trailing bits (the spec test seed ends in …XA1)', () => {
  assert.deepEqual(decodeBase64('Zh'), utf8('f'));
  assert.equal(
    Buffer.from(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')).toString('hex'),
    '6090c103d5e7af6b15a970fd563ed75549e6159719ae5c3c31dee4316fb75c0d',
  );
});

test('decodeBase64 rejects malformed input with Base64Error', () => {
  for (const bad of ['Z', 'Zm9vY', 'Zg=', 'Zg===', 'Z===', 'Zm9v=', 'Zm9v====', '=', '==', 'Zm 9v', 'Zm9v\n', 'Zm9$', '+_', 'Zg=a', 'é']) {
    assert.throws(() => decodeBase64(bad), Base64Error, JSON.stringify(bad));
    assert.equal(tryDecodeBase64(bad), undefined);
  }
});

test('Base64 property: decode inverts both encoders; encodings have no padding', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const standard = encodeBase64(bytes);
      const urlSafe = encodeBase64Url(bytes);
      assert.equal(standard.includes('='), false);
      assert.equal(urlSafe, standard.replaceAll('+', '-').replaceAll('/', '_'));
      assert.deepEqual(decodeBase64(standard), bytes);
      assert.deepEqual(decodeBase64(urlSafe), bytes);
      assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes);
    }),
  );
});

test('encoders read only the view they are given', () => {
  const backing = new Uint8Array([1, 2, 3, 102, 111, 111, 4]);
  assert.equal(encodeBase64(backing.subarray(3, 6)), 'Zm9v');
  assert.equal(encodeBase64Url(backing.subarray(3, 6)), 'Zm9v');
});
