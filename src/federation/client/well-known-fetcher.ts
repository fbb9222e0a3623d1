// GET https://<hostname>/.well-known/matrix/server for server discovery (server-server
// § "Resolving server names", step 3): certificate checks and the private-address guard as
// for every federation request, redirects followed without loops, a small body limit.

import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { WellKnownFetcher, WellKnownResponse } from './server-discovery.ts';
import { classifyConnectionError, connectOptions } from './transport.ts';
import type { TransportOptions } from './transport.ts';

const MAX_REDIRECTS = 5;
const MAX_BODY_BYTES = 64 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface HttpsWellKnownFetcherOptions extends TransportOptions {
  readonly timeoutMs?: number;
}

export class HttpsWellKnownFetcher implements WellKnownFetcher {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: HttpsWellKnownFetcherOptions) {
    // No servername here: each request's certificate is for the host in its own URL.
    this.#agent = new Agent({ connect: connectOptions(options, undefined), allowH2: false });
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async fetch(hostname: string): Promise<WellKnownResponse> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let url = new URL(`https://${hostname}/.well-known/matrix/server`);
    const visited = new Set<string>();
    try {
      for (;;) {
        visited.add(url.href);
        const response = await this.#agent.request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', signal });
        const location = header(response.headers, 'location');
        if (REDIRECT_STATUSES.has(response.statusCode) && location !== undefined) {
          await response.body.dump();
          const next = new URL(location, url);
          if (next.protocol !== 'https:') return { kind: 'failure', reason: `redirect to non-https ${next.href}` };
          if (visited.has(next.href)) return { kind: 'failure', reason: 'redirect loop' };
          if (visited.size > MAX_REDIRECTS) return { kind: 'failure', reason: 'too many redirects' };
          url = next;
          continue;
        }
        const body = await readLimited(response.body, MAX_BODY_BYTES);
        if (body === undefined) return { kind: 'failure', reason: 'response too large' };
        return { kind: 'response', status: response.statusCode, body, cacheControl: header(response.headers, 'cache-control') };
      }
    } catch (error) {
      return { kind: 'failure', reason: `${classifyConnectionError(error)}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as UTF-8 text (bad bytes replaced), or undefined past `limit` bytes. */
async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
