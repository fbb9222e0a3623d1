// Sends a FuzzRequest exactly as built: raw path bytes, repeated headers, any body, over
// node:http(s) (fetch would normalise the URL and refuse some of what the fuzzer sends).

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FuzzRequest } from './requests.ts';

export interface FuzzResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON, or undefined. */
  readonly body: unknown;
}

export interface Endpoints {
  readonly clientUrl: string;
  readonly federationUrl: string;
  /** CA to trust for an https federation URL. */
  readonly ca: string | undefined;
}

export class Sender {
  readonly #endpoints: Endpoints;
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  readonly #https: HttpsAgent;
  readonly #timeoutMs: number;

  constructor(endpoints: Endpoints, timeoutMs = 30_000) {
    this.#endpoints = endpoints;
    this.#https = new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(endpoints.ca === undefined ? {} : { ca: endpoints.ca }) });
    this.#timeoutMs = timeoutMs;
  }

  async send(req: FuzzRequest): Promise<FuzzResponse> {
    try {
      return await this.#sendOnce(req);
    } catch (error) {
      // A keep-alive socket the server closed just as we reused it: Node's documented
      // race, not the server's failure. Retry once on a fresh connection.
      if (error instanceof StaleSocketError) return this.#sendOnce(req);
      throw error;
    }
  }

  #sendOnce(req: FuzzRequest): Promise<FuzzResponse> {
    const base = new URL(req.listener === 'client' ? this.#endpoints.clientUrl : this.#endpoints.federationUrl);
    const secure = base.protocol === 'https:';
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name] = typeof value === 'string' ? value : [...value];
    if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    return new Promise<FuzzResponse>((resolve, reject) => {
      const options = {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.target,
        headers,
        agent: secure ? this.#https : this.#http,
        timeout: this.#timeoutMs,
      };
      const onResponse = (res: import('node:http').IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      };
      let clientRequest: import('node:http').ClientRequest;
      try {
        clientRequest = secure ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
      } catch (error) {
        // Node's client refused to send it (a header or path it considers invalid).
        reject(new UnsendableRequestError(error instanceof Error ? error.message : String(error)));
        return;
      }
      clientRequest.on('timeout', () => clientRequest.destroy(new RequestTimeoutError(`no response within ${this.#timeoutMs} ms`)));
      clientRequest.on('error', (error: Error & { code?: string }) => {
        const stale = clientRequest.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        reject(stale ? new StaleSocketError(error.message) : error);
      });
      // The server may answer (413) and close before the whole body is written.
      clientRequest.end(req.body === undefined ? undefined : Buffer.from(req.body));
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/** Node's HTTP client would not send the request at all; not a server failure. */
export class UnsendableRequestError extends Error {
  override name = 'UnsendableRequestError';
}

class StaleSocketError extends Error {
  override name = 'StaleSocketError';
}

export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}
