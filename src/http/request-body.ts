// Reading and parsing JSON request bodies. No body-parser middleware: the limit is enforced
// while the body streams in (a client cannot make us buffer more than the limit), and the
// raw text is kept, because federation checks signatures over exactly what was sent.

import type { IncomingMessage } from 'node:http';
import { JsonParseError, parseJsonStrict } from '../rooms/canonical-json.ts';
import { isJsonObject, type JsonObject } from '../rooms/json.ts';
import { badJson, notJson, tooLarge } from './matrix-error.ts';

/** The client went away before sending its whole body. */
export class RequestAbortedError extends Error {
  override name = 'RequestAbortedError';
}

/**
 * The request body, at most `limit` bytes. Rejects with M_TOO_LARGE as soon as the declared
 * `Content-Length` or the bytes received so far exceed the limit. The rest of an oversized
 * body is then discarded unread, so the client can still read our 413.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(`Request body exceeds ${limit} bytes`));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        chunks.length = 0;
        // Keep reading into the void: Node then delivers our response, and the connection is
        // closed after it (the error middleware sets `Connection: close`).
        req.resume();
        reject(tooLarge(`Request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new RequestAbortedError(`request body could not be read: ${error.message}`));
    };
    const onAborted = (): void => {
      cleanup();
      reject(new RequestAbortedError('client aborted the request'));
    };
    const onClose = (): void => {
      // 'close' before 'end' means the body was cut short.
      if (!req.complete) onAborted();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.on('close', onClose);
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface ParsedJsonBody {
  readonly text: string;
  readonly value: JsonObject;
}

/**
 * How deep a request body may nest objects and arrays. No Matrix request needs more than a
 * handful of levels (a federation transaction holding an event's content is the deepest);
 * the bound keeps every later walk over the body (validation, canonical JSON, redaction)
 * cheap and its recursion shallow.
 */
export const MAX_BODY_DEPTH = 64;
/** How the strict parser words a depth failure (src/rooms/canonical-json.ts). */
const DEPTH_FAILURE = 'nesting deeper than';

/**
 * The body as a JSON object. An empty body counts as `{}`: the spec has clients send a
 * "potentially empty" object, and clients that send nothing at all mean the same thing.
 * Invalid UTF-8, invalid JSON and JSON that is not an object are M_NOT_JSON; JSON nested
 * deeper than MAX_BODY_DEPTH is M_BAD_JSON (valid, but not something we accept).
 */
export function parseJsonObjectBody(bytes: Uint8Array): ParsedJsonBody {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw notJson('Content is not valid UTF-8');
  }
  if (text.trim() === '') return { text, value: {} };
  let value: unknown;
  try {
    // The strict parser refuses duplicate keys and runaway nesting, which JSON.parse accepts.
    value = parseJsonStrict(text, { maxDepth: MAX_BODY_DEPTH });
  } catch (error) {
    if (error instanceof JsonParseError && error.message.startsWith(DEPTH_FAILURE)) {
      throw badJson(`Content nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    if (error instanceof JsonParseError) throw notJson(`Content not JSON: ${error.message}`);
    throw error;
  }
  if (!isJsonObject(value)) throw notJson('Content must be a JSON object');
  const inherited = inheritedKeyIn(value, 0);
  if (inherited !== undefined) throw badJson(`Object key ${JSON.stringify(inherited)} is not allowed`);
  return { text, value };
}

// Names every plain object inherits. As keys of a request body they are poison: handlers
// build maps keyed by the body's keys (`failures[userId] ??= {}`), and for these names the
// lookup finds the inherited value (Object.prototype, the Object constructor), so the
// following assignment writes into objects the whole process shares. No Matrix identifier
// or field is named like this, so refusing them once, here, closes the whole class.
const INHERITED_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

function inheritedKeyIn(value: unknown, depth: number): string | undefined {
  // The parser already bounds nesting; the guard keeps this walk bounded on its own too.
  if (depth > 200 || typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = inheritedKeyIn(item, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (INHERITED_KEYS.has(key)) return key;
    const found = inheritedKeyIn(child, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
