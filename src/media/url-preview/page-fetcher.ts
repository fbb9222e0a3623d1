// Fetching a page (or an image) for a URL preview on a user's behalf. The URL is anyone's
// choice, so every connection goes through the private-address guard — on each redirect hop,
// and on the address the socket actually connects to (DNS rebinding cannot slip past) — and
// both the time and the bytes spent on one preview are bounded.

import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { assertAllowedAddress, ForbiddenAddressError, guardedLookup, type PrivateAddressPolicy } from '../../net/address-guard.ts';
import type { Dns } from '../../net/dns.ts';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'Stoa URL preview (Matrix homeserver)';

export interface FetchedResource {
  /** Where the content came from, after redirects. */
  readonly url: URL;
  readonly contentType: string | undefined;
  readonly bytes: Uint8Array;
  /** The body was longer than allowed and was cut (pages), see `fetch`'s `truncate`. */
  readonly truncated: boolean;
}

/** The preview could not be fetched; `forbidden`: the URL leads somewhere we may not go. */
export class PreviewFetchError extends Error {
  override readonly name = 'PreviewFetchError';
  readonly forbidden: boolean;
  constructor(message: string, forbidden = false) {
    super(message);
    this.forbidden = forbidden;
  }
}

export interface PageFetcherOptions {
  readonly dns: Dns;
  readonly privateAddresses: PrivateAddressPolicy;
  readonly timeoutMs: number;
}

export class PageFetcher {
  readonly #agent: Agent;
  readonly #options: PageFetcherOptions;

  constructor(options: PageFetcherOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connect: { lookup: guardedLookup(options.dns, options.privateAddresses), timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connections: 8,
    });
  }

  /**
   * GETs `start`, following up to five redirects. Bodies over `maxBytes` are cut when
   * `truncate` (a page's <head> is at its top) and refused otherwise (an image).
   */
  async fetch(start: URL, limits: { maxBytes: number; truncate: boolean }): Promise<FetchedResource> {
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    let url = start;
    for (let hop = 0; ; hop++) {
      this.#checkUrl(url);
      let response;
      try {
        response = await request(url, {
          method: 'GET',
          dispatcher: this.#agent,
          signal,
          headers: { 'user-agent': USER_AGENT, accept: 'text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.5' },
        });
      } catch (error) {
        throw asFetchError(error, url);
      }
      if (REDIRECTS.has(response.statusCode)) {
        await response.body.dump().catch(() => undefined);
        const location = headerValue(response.headers['location']);
        if (location === undefined) throw new PreviewFetchError(`redirect without a Location from ${url.host}`);
        if (hop >= MAX_REDIRECTS) throw new PreviewFetchError('too many redirects');
        try {
          url = new URL(location, url);
        } catch {
          throw new PreviewFetchError(`unusable redirect from ${url.host}`);
        }
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump().catch(() => undefined);
        throw new PreviewFetchError(`${url.host} answered ${response.statusCode}`);
      }
      const declared = Number(headerValue(response.headers['content-length']) ?? Number.NaN);
      if (!limits.truncate && declared > limits.maxBytes) {
        await response.body.dump().catch(() => undefined);
        throw new PreviewFetchError('content too large');
      }
      const { bytes, truncated } = await readBounded(response.body, limits.maxBytes).catch((error: unknown) => {
        throw asFetchError(error, url);
      });
      if (truncated && !limits.truncate) throw new PreviewFetchError('content too large');
      return { url, contentType: headerValue(response.headers['content-type']), bytes, truncated };
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  #checkUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PreviewFetchError('only http and https URLs are previewed');
    if (url.username !== '' || url.password !== '') throw new PreviewFetchError('URLs with credentials are not previewed');
    // The socket's lookup is skipped for IP literals, so those are checked here.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0) {
      try {
        assertAllowedAddress(host, this.#options.privateAddresses);
      } catch (error) {
        throw asFetchError(error, url);
      }
    }
  }
}

async function readBounded(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    const room = maxBytes - length;
    if (chunk.length > room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      length += Math.max(room, 0);
      body.destroy();
      return { bytes: Buffer.concat(chunks, length), truncated: true };
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, length), truncated: false };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function asFetchError(error: unknown, url: URL): PreviewFetchError {
  if (error instanceof PreviewFetchError) return error;
  if (error instanceof ForbiddenAddressError || (error as { code?: string } | null)?.code === 'ERR_STOA_FORBIDDEN_ADDRESS') {
    return new PreviewFetchError(`${url.hostname} is not a public address`, true);
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof ForbiddenAddressError) return new PreviewFetchError(`${url.hostname} is not a public address`, true);
  const name = (error as Error | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new PreviewFetchError(`timed out fetching ${url.host}`);
  return new PreviewFetchError(`could not fetch ${url.host}: ${(error as Error | null)?.message ?? String(error)}`);
}
