// Remote media over federation (server-server § "Content Repository"): the media service's
// RemoteMediaFetcher port, implemented with the signed federation client. It asks
// GET /_matrix/federation/v1/media/download/{mediaId} first and, when the origin answers
// 404 M_UNRECOGNIZED (it predates v1.11), falls back to the deprecated
// /_matrix/media/v3/download with `allow_remote=false`, as the spec requires. Bodies are
// handed on unread, as streams; the media service enforces its limits while storing them.
// The shapes below match src/media/remote-media.ts structurally: federation and media do
// not import each other, and main.ts checks the fit when it wires them.

import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { guardedLookup } from '../net/address-guard.ts';
import type { Dns } from '../net/dns.ts';
import { RemoteMatrixError } from './client/errors.ts';
import type { FederationClient } from './client/federation-client.ts';

interface MediaRequest {
  readonly serverName: string;
  readonly mediaId: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

type MediaResponse =
  | {
      readonly kind: 'media';
      readonly format: 'multipart' | 'raw';
      readonly contentType: string | undefined;
      readonly contentDisposition: string | undefined;
      readonly body: AsyncIterable<Uint8Array>;
    }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-yet-uploaded' }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Room for the multipart framing around the bytes. */
const MULTIPART_OVERHEAD = 64 * 1024;
const MAX_REDIRECTS = 3;

export interface FederationMediaFetcherOptions {
  readonly client: FederationClient;
  readonly dns: Dns;
  /** `federation.allow_private_addresses`, applied to `Location` URLs too. */
  readonly allowPrivateAddresses: boolean;
  /** Whether our operator's allow/deny lists let us talk to a server. */
  readonly isAllowed: (serverName: string) => boolean;
}

export class FederationMediaFetcher {
  readonly #options: FederationMediaFetcherOptions;
  readonly #agent: Agent;

  constructor(options: FederationMediaFetcherOptions) {
    this.#options = options;
    this.#agent = new Agent({ connect: { lookup: guardedLookup(options.dns, options.allowPrivateAddresses) } });
  }

  async download(request: MediaRequest): Promise<MediaResponse> {
    if (!this.#options.isAllowed(request.serverName)) return { kind: 'unavailable', reason: 'server not allowed by federation.allow/deny' };
    const mediaId = encodeURIComponent(request.mediaId);
    const timeoutMs = request.timeoutMs + 30_000;
    try {
      const response = await this.#options.client.openStream(request.serverName, {
        path: `/_matrix/federation/v1/media/download/${mediaId}`,
        query: { timeout_ms: request.timeoutMs },
        timeoutMs,
      });
      return mediaResponse(response.headers, response.body, 'multipart', request.maxBytes + MULTIPART_OVERHEAD);
    } catch (error) {
      if (!(error instanceof RemoteMatrixError && error.status === 404 && error.errcode === 'M_UNRECOGNIZED')) return failure(error);
    }
    try {
      const response = await this.#options.client.openStream(request.serverName, {
        path: `/_matrix/media/v3/download/${encodeURIComponent(request.serverName)}/${mediaId}`,
        query: { allow_remote: false, timeout_ms: request.timeoutMs },
        timeoutMs,
      });
      return mediaResponse(response.headers, response.body, 'raw', request.maxBytes);
    } catch (error) {
      return failure(error);
    }
  }

  async fetchLocation(url: string, request: MediaRequest): Promise<MediaResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { kind: 'unavailable', reason: 'Location is not a URL' };
    }
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (target.protocol !== 'https:' && target.protocol !== 'http:') return { kind: 'unavailable', reason: 'Location is not http(s)' };
      let response: Dispatcher.ResponseData;
      try {
        response = await undiciRequest(target, {
          method: 'GET',
          dispatcher: this.#agent,
          signal: AbortSignal.timeout(request.timeoutMs + 30_000),
          headers: { 'user-agent': 'Stoa' },
        });
      } catch (error) {
        return { kind: 'unavailable', reason: error instanceof Error ? error.message : String(error) };
      }
      const location = headerValue(response.headers['location']);
      if (response.statusCode >= 300 && response.statusCode < 400 && location !== undefined) {
        response.body.destroy();
        target = new URL(location, target);
        continue;
      }
      if (response.statusCode === 404) {
        response.body.destroy();
        return { kind: 'not-found' };
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        response.body.destroy();
        return { kind: 'unavailable', reason: `Location answered ${response.statusCode}` };
      }
      return mediaResponse(response.headers, response.body, 'raw', request.maxBytes);
    }
    return { kind: 'unavailable', reason: 'too many redirects' };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function mediaResponse(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Dispatcher.ResponseData['body'],
  format: 'multipart' | 'raw',
  limit: number,
): MediaResponse {
  const declared = Number(headerValue(headers['content-length']));
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    return { kind: 'too-large' };
  }
  return {
    kind: 'media',
    format,
    contentType: headerValue(headers['content-type']),
    contentDisposition: headerValue(headers['content-disposition']),
    body: releasing(body),
  };
}

/** Iterates the body and destroys it when the reader stops early (a limit, an error). */
async function* releasing(body: Dispatcher.ResponseData['body']): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk as Buffer;
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

function failure(error: unknown): MediaResponse {
  if (error instanceof RemoteMatrixError) {
    if (error.status === 404) return { kind: 'not-found' };
    if (error.status === 504 && error.errcode === 'M_NOT_YET_UPLOADED') return { kind: 'not-yet-uploaded' };
    if (error.errcode === 'M_TOO_LARGE' || error.status === 413) return { kind: 'too-large' };
  }
  return { kind: 'unavailable', reason: error instanceof Error ? error.message : String(error) };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
