// What the media endpoints share: query parsing, the request body as a byte stream, and
// media responses with their headers (client-server § "Content repository": CSP, nosniff,
// CORP on every one; Range support on downloads).

import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { HttpResponse } from '../../http/define-endpoint.ts';
import { invalidParam, MatrixError } from '../../http/matrix-error.ts';
import { RequestAbortedError } from '../../http/request-body.ts';
import { contentDisposition, MEDIA_SECURITY_HEADERS } from '../content-disposition.ts';
import { DEFAULT_WAIT_MS, type FetchOptions, type ServedMedia } from '../media-service.ts';
import { parseRange } from '../range.ts';
import type { ThumbnailMethod, ThumbnailRequest } from '../thumbnailer.ts';

/** Sets the media security headers first, so error responses carry them too. */
export function withMediaHeaders(ctx: Context): void {
  ctx.set(MEDIA_SECURITY_HEADERS);
}

/**
 * The request body, chunk by chunk as it arrives. A body cut short (the client went away, or
 * sent less than its Content-Length) throws RequestAbortedError.
 */
export async function* requestBytes(req: IncomingMessage): AsyncGenerator<Uint8Array> {
  try {
    // Not destroyed when the reader stops early (a limit): destroying the request would
    // take the socket, and our error response, with it. discardBody() drains the rest.
    for await (const chunk of req.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
  } catch (error) {
    throw new RequestAbortedError(`upload interrupted: ${(error as Error).message}`);
  }
  if (!req.complete) throw new RequestAbortedError('upload interrupted');
}

/** After a refused upload: discard the rest of the body so the client can read our answer. */
export function discardBody(ctx: Context): void {
  if (!ctx.req.complete) ctx.req.resume();
}

export function booleanParam(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(`${name} must be true or false`);
}

export function integerParam(query: URLSearchParams, name: string, fallback?: number): number {
  const value = query.get(name);
  if (value === null) {
    if (fallback === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `${name} is required`);
    return fallback;
  }
  if (!/^\d{1,15}$/.test(value)) throw invalidParam(`${name} must be a non-negative integer`);
  return Number(value);
}

export function fetchOptions(query: URLSearchParams, legacy: boolean): FetchOptions {
  return {
    timeoutMs: integerParam(query, 'timeout_ms', DEFAULT_WAIT_MS),
    allowRemote: legacy ? booleanParam(query, 'allow_remote', true) : true,
    legacy,
  };
}

const MAX_THUMBNAIL_DIMENSION = 10_000;

export function thumbnailRequest(query: URLSearchParams): ThumbnailRequest {
  const width = integerParam(query, 'width');
  const height = integerParam(query, 'height');
  if (width < 1 || height < 1 || width > MAX_THUMBNAIL_DIMENSION || height > MAX_THUMBNAIL_DIMENSION) {
    throw invalidParam(`width and height must be between 1 and ${MAX_THUMBNAIL_DIMENSION}`);
  }
  const method = query.get('method') ?? 'scale';
  if (method !== 'crop' && method !== 'scale') throw invalidParam('method must be crop or scale');
  return { width, height, method: method satisfies ThumbnailMethod, animated: booleanParam(query, 'animated', false) };
}

const CACHE_CONTROL = 'private, max-age=86400, immutable';

/** 200 with the whole file, 206 with one range, or 416 for a range past the end. */
export async function serveMedia(ctx: Context, media: ServedMedia, disposition: string): Promise<HttpResponse> {
  // Content-Type as a header rather than koa's `type`, which would add a charset: the spec
  // wants the type "exactly the same as the original upload, or reasonably close".
  const headers: Record<string, string> = {
    ...MEDIA_SECURITY_HEADERS,
    'Content-Type': media.contentType,
    'Content-Disposition': disposition,
    'Accept-Ranges': 'bytes',
    'Cache-Control': CACHE_CONTROL,
  };
  const range = parseRange(ctx.get('Range') || undefined, media.size);
  if (range.kind === 'unsatisfiable') {
    throw new MatrixError(416, 'M_UNKNOWN', 'Requested range not satisfiable', {}, { ...headers, 'Content-Range': `bytes */${media.size}` });
  }
  if (range.kind === 'partial') {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${media.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    return new HttpResponse(206, await media.open({ start: range.start, end: range.end }), undefined, headers);
  }
  headers['Content-Length'] = String(media.size);
  return new HttpResponse(200, await media.open(), undefined, headers);
}

export function downloadDisposition(media: ServedMedia, overrideName: string | undefined): string {
  return contentDisposition(media.contentType, overrideName ?? media.filename);
}

export function thumbnailDisposition(media: ServedMedia): string {
  const extension = media.contentType.split('/')[1]?.replace(/[^a-z0-9]/gi, '') ?? 'bin';
  // § GET /thumbnail: the disposition MUST be inline.
  return contentDisposition(media.contentType, `thumbnail.${extension}`, true);
}
