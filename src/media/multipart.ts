// multipart/mixed for federation media (server-server § "Content Repository",
// GET /_matrix/federation/v1/media/download|thumbnail): exactly two parts, a JSON metadata
// object and then either the bytes (with their Content-Type and Content-Disposition) or a
// `Location` to fetch them from. Both directions stream: the bytes are never held whole.

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export class MultipartError extends Error {
  override name = 'MultipartError';
}

export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

/** The response body: metadata `{}` and the media bytes, as one stream. */
export function multipartMediaBody(
  boundary: string,
  headers: { readonly contentType: string; readonly contentDisposition: string },
  bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Readable {
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(
      `--${boundary}\r\nContent-Type: application/json\r\n\r\n{}\r\n` +
        `--${boundary}\r\nContent-Type: ${headers.contentType}\r\nContent-Disposition: ${headers.contentDisposition}\r\n\r\n`,
      'utf8',
    );
    yield* bytes;
    yield Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  }
  return Readable.from(parts(), { objectMode: false });
}

/** The boundary parameter of a multipart/mixed Content-Type, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  if (!/^\s*multipart\/mixed\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

export type ParsedMediaPart =
  | {
      readonly kind: 'bytes';
      readonly headers: ReadonlyMap<string, string>;
      /** The media bytes; ends (or throws MultipartError) at the closing boundary. */
      readonly body: AsyncIterable<Buffer>;
    }
  | { readonly kind: 'location'; readonly location: string; readonly headers: ReadonlyMap<string, string> };

export interface ParsedMultipartMedia {
  readonly metadata: unknown;
  readonly media: ParsedMediaPart;
}

const MAX_HEADER_LINE = 8 * 1024;
const MAX_METADATA = 64 * 1024;

/** Reads the two parts; the second part's bytes are streamed through `media.body`. */
export async function parseMultipartMedia(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, boundary: string): Promise<ParsedMultipartMedia> {
  const scanner = new StreamScanner(source);
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'utf8');
  // The first boundary may follow a preamble, or open the body with no CRLF before it.
  await scanner.readUntil(Buffer.from(`--${boundary}`, 'utf8'), MAX_METADATA);
  await scanner.readUntil(CRLF, MAX_HEADER_LINE);
  const metadataHeaders = await readHeaders(scanner);
  const metadataText = (await scanner.readUntil(delimiter, MAX_METADATA)).toString('utf8');
  if (!/^application\/json\b/i.test(metadataHeaders.get('content-type') ?? 'application/json')) {
    throw new MultipartError('the first part is not application/json');
  }
  let metadata: unknown;
  try {
    metadata = JSON.parse(metadataText);
  } catch {
    throw new MultipartError('the metadata part is not JSON');
  }
  const afterFirst = await scanner.readUntil(CRLF, MAX_HEADER_LINE);
  if (afterFirst.toString('latin1').startsWith('--')) throw new MultipartError('only one part was sent');
  const headers = await readHeaders(scanner);
  const location = headers.get('location');
  if (location !== undefined) return { metadata, media: { kind: 'location', location, headers } };
  return { metadata, media: { kind: 'bytes', headers, body: scanner.until(delimiter) } };
}

const CRLF = Buffer.from('\r\n', 'latin1');

async function readHeaders(scanner: StreamScanner): Promise<Map<string, string>> {
  const headers = new Map<string, string>();
  for (let count = 0; ; count++) {
    if (count > 50) throw new MultipartError('too many part headers');
    const line = (await scanner.readUntil(CRLF, MAX_HEADER_LINE)).toString('utf8');
    if (line === '') return headers;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('malformed part header');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}

/** Pulls chunks from a stream on demand and finds delimiters across chunk edges. */
class StreamScanner {
  readonly #source: AsyncIterator<Uint8Array>;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#source = (async function* () {
      yield* source;
    })();
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const next = await this.#source.next();
    if (next.done === true) {
      this.#ended = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    return true;
  }

  /** The bytes before `delimiter` (at most `max`), consuming the delimiter too. */
  async readUntil(delimiter: Buffer, max: number): Promise<Buffer> {
    for (;;) {
      const index = this.#buffer.indexOf(delimiter);
      if (index >= 0) {
        if (index > max) throw new MultipartError('multipart part too long');
        const out = this.#buffer.subarray(0, index);
        this.#buffer = this.#buffer.subarray(index + delimiter.length);
        return out;
      }
      if (this.#buffer.length > max + delimiter.length) throw new MultipartError('multipart part too long');
      if (!(await this.#fill())) throw new MultipartError('multipart body ended early');
    }
  }

  /** Streams the bytes before `delimiter`, holding back only what could be its start. */
  async *until(delimiter: Buffer): AsyncGenerator<Buffer> {
    const keep = delimiter.length - 1;
    for (;;) {
      const index = this.#buffer.indexOf(delimiter);
      if (index >= 0) {
        if (index > 0) yield this.#buffer.subarray(0, index);
        this.#buffer = this.#buffer.subarray(index + delimiter.length);
        return;
      }
      if (this.#buffer.length > keep) {
        yield this.#buffer.subarray(0, this.#buffer.length - keep);
        this.#buffer = Buffer.from(this.#buffer.subarray(this.#buffer.length - keep));
      }
      if (!(await this.#fill())) throw new MultipartError('multipart body ended before its closing boundary');
    }
  }
}
