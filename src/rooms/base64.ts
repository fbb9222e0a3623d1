// Unpadded Base64 (content/appendices.md § "Unpadded Base64", § "URL-safe unpadded Base64").
// Encoders never pad. The decoder accepts either alphabet, padded or not, as the appendix
// asks ("SHOULD accept input with or without padding"), and tolerates non-zero trailing
// bits: the spec's own test signing key seed (`…XA1`) has them.

import { Buffer } from 'node:buffer';

export class Base64Error extends Error {
  override name = 'Base64Error';
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Standard alphabet (`+`, `/`), no padding. */
export function encodeBase64(bytes: Uint8Array): string {
  const padded = toBuffer(bytes).toString('base64');
  let end = padded.length;
  while (end > 0 && padded.charCodeAt(end - 1) === 0x3d) end--;
  return padded.slice(0, end);
}

/** URL-safe alphabet (`-`, `_`), no padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  // Node's base64url encoder does not pad.
  return toBuffer(bytes).toString('base64url');
}

const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9\-_]*$/;

/**
 * Decode standard or URL-safe Base64, with or without `=` padding. Mixed alphabets,
 * whitespace, misplaced padding and impossible lengths are a `Base64Error`.
 */
export function decodeBase64(text: string): Uint8Array {
  if (typeof text !== 'string') throw new Base64Error('not a string');
  let body = text;
  const firstPad = text.indexOf('=');
  if (firstPad !== -1) {
    body = text.slice(0, firstPad);
    const padding = text.slice(firstPad);
    if (!/^={1,2}$/.test(padding) || text.length % 4 !== 0) {
      throw new Base64Error('invalid padding');
    }
  }
  if (body.length % 4 === 1) throw new Base64Error('invalid length');
  if (firstPad !== -1 && body.length % 4 === 0) throw new Base64Error('invalid padding');
  if (!STANDARD.test(body) && !URL_SAFE.test(body)) {
    throw new Base64Error('invalid character');
  }
  // Node's decoder reads both alphabets; the input is validated above because it would
  // otherwise skip invalid characters silently.
  const decoded = Buffer.from(body, 'base64');
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}

/** `decodeBase64`, or `undefined` instead of throwing. */
export function tryDecodeBase64(text: string): Uint8Array | undefined {
  try {
    return decodeBase64(text);
  } catch {
    return undefined;
  }
}
