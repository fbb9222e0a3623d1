// X-Matrix request authentication (server-server § "Request Authentication"): the JSON a
// request signature covers, the `Authorization: X-Matrix …` header in both directions, and
// checking one header's signature with a key the caller has already looked up.

import type { JsonObject, JsonValue } from '../rooms/json.ts';
import { encodeBase64 } from '../rooms/base64.ts';
import { isValidServerName } from '../rooms/identifiers.ts';
import { signableBytes, verifyJsonSignature } from './signed-json.ts';
import type { SigningKey } from './signing-key.ts';

export class XMatrixHeaderError extends Error {
  override name = 'XMatrixHeaderError';
}

/** The parameters of one `X-Matrix` Authorization header. */
export interface XMatrixAuthorization {
  readonly origin: string;
  /** Absent in requests from servers older than spec v1.3. */
  readonly destination: string | undefined;
  /** `ed25519:abc` */
  readonly key: string;
  /** Unpadded Base64 signature. */
  readonly sig: string;
}

/** What a request signature covers. `uri` is the path from `/_matrix/` with its query. */
export interface SignedRequestParts {
  readonly method: string;
  readonly uri: string;
  readonly origin: string;
  readonly destination: string;
  /** The JSON body; undefined when the request has none (the key is then left out). */
  readonly content: JsonValue | undefined;
}

/** Step 1: the JSON object that is signed. */
export function requestSigningObject(parts: SignedRequestParts): JsonObject {
  const object: JsonObject = {
    method: parts.method,
    uri: parts.uri,
    origin: parts.origin,
    destination: parts.destination,
  };
  if (parts.content !== undefined) object['content'] = parts.content;
  return object;
}

// RFC 9110 § 5.6.2 `tchar`.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function quoteValue(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * Step 2: the header value, written the way the spec asks senders to for older servers:
 * one space after the scheme, lower-case names, quoted values, no spaces around commas.
 */
export function formatXMatrixHeader(auth: XMatrixAuthorization): string {
  const params = [`origin=${quoteValue(auth.origin)}`];
  if (auth.destination !== undefined) params.push(`destination=${quoteValue(auth.destination)}`);
  params.push(`key=${quoteValue(auth.key)}`, `sig=${quoteValue(auth.sig)}`);
  return `X-Matrix ${params.join(',')}`;
}

/** Signs a request as `parts.origin` and returns its Authorization header value. */
export function signRequest(parts: SignedRequestParts, key: SigningKey): string {
  const sig = encodeBase64(key.sign(signableBytes(requestSigningObject(parts))));
  return formatXMatrixHeader({ origin: parts.origin, destination: parts.destination, key: key.keyId, sig });
}

/** Whether the header value uses the X-Matrix scheme (auth schemes are case-insensitive). */
export function isXMatrixHeader(header: string): boolean {
  return /^x-matrix(?:[ \t]|$)/i.test(header.trimStart());
}

/**
 * Parses an `X-Matrix` Authorization header value (RFC 9110 § 11.4 as the spec summarises
 * it): names case-insensitive, values quoted (with backslash escapes) or bare, colons
 * allowed in bare values, unknown parameters ignored. Throws `XMatrixHeaderError`.
 */
export function parseXMatrixHeader(header: string): XMatrixAuthorization {
  const text = header.trim();
  const scheme = /^x-matrix[ \t]+/i.exec(text);
  if (scheme === null) throw new XMatrixHeaderError('not an X-Matrix authorization header');
  const params = new Map<string, string>();
  let pos = scheme[0].length;
  const skipSpace = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  for (;;) {
    skipSpace();
    const nameStart = pos;
    while (pos < text.length && !'=,'.includes(text[pos] ?? '') && text[pos] !== ' ' && text[pos] !== '\t') pos++;
    const name = text.slice(nameStart, pos).toLowerCase();
    if (!TOKEN.test(name)) throw new XMatrixHeaderError(`bad parameter name at position ${nameStart}`);
    skipSpace();
    if (text[pos] !== '=') throw new XMatrixHeaderError(`parameter ${name} has no value`);
    pos++;
    skipSpace();
    let value = '';
    if (text[pos] === '"') {
      pos++;
      let closed = false;
      while (pos < text.length) {
        const c = text[pos] ?? '';
        if (c === '\\') {
          if (pos + 1 >= text.length) break;
          value += text[pos + 1];
          pos += 2;
        } else if (c === '"') {
          pos++;
          closed = true;
          break;
        } else {
          value += c;
          pos++;
        }
      }
      if (!closed) throw new XMatrixHeaderError(`parameter ${name} has an unterminated quoted value`);
    } else {
      const valueStart = pos;
      while (pos < text.length && text[pos] !== ',' && text[pos] !== ' ' && text[pos] !== '\t' && text[pos] !== '"') pos++;
      value = text.slice(valueStart, pos);
      if (value === '') throw new XMatrixHeaderError(`parameter ${name} has an empty value`);
    }
    if (params.has(name)) throw new XMatrixHeaderError(`parameter ${name} appears twice`);
    params.set(name, value);
    skipSpace();
    if (pos >= text.length) break;
    if (text[pos] !== ',') throw new XMatrixHeaderError(`expected ',' at position ${pos}`);
    pos++;
  }
  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  if (origin === undefined || key === undefined || sig === undefined) {
    throw new XMatrixHeaderError('an X-Matrix header needs origin, key and sig');
  }
  if (!isValidServerName(origin)) throw new XMatrixHeaderError('origin is not a server name');
  const destination = params.get('destination');
  if (destination !== undefined && !isValidServerName(destination)) {
    throw new XMatrixHeaderError('destination is not a server name');
  }
  return { origin, destination, key, sig };
}

/** A received request, as the signature check needs it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly uri: string;
  readonly content: JsonValue | undefined;
}

/**
 * Whether `auth.sig` is `auth.origin`'s signature, under `publicKey`, of this request sent
 * to `ourServerName`. The signed JSON names us as destination whether or not the header
 * does (senders before v1.3 signed it without sending the parameter); a header naming
 * someone else is the caller's 401 to give, before any key is fetched.
 */
export function verifyRequestSignature(
  request: ReceivedRequest,
  auth: XMatrixAuthorization,
  ourServerName: string,
  publicKey: Uint8Array,
): boolean {
  const signed: JsonObject = {
    ...requestSigningObject({
      method: request.method,
      uri: request.uri,
      origin: auth.origin,
      destination: ourServerName,
      content: request.content,
    }),
    signatures: { [auth.origin]: { [auth.key]: auth.sig } },
  };
  return verifyJsonSignature(signed, auth.origin, auth.key, publicKey);
}
