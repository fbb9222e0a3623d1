// HTTP for black-box tests: one request, the whole body read, JSON parsed when it is JSON.
// HTTPS trusts only the CA given (a test node's caCertificate), never "any certificate".

import { Agent, fetch, type Dispatcher } from 'undici';

export interface HttpRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object or array is sent as JSON; a string or bytes as they are. */
  readonly body?: unknown;
  /** PEM CA certificate to trust for https:// URLs. */
  readonly ca?: string | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON when it parses, else undefined. */
  readonly body: unknown;
  readonly text: string;
}

const agents = new Map<string, Dispatcher>();

function agentFor(ca: string): Dispatcher {
  let agent = agents.get(ca);
  if (agent === undefined) {
    agent = new Agent({ connect: { ca } });
    agents.set(ca, agent);
  }
  return agent;
}

export async function request(url: string, init: HttpRequest = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | Uint8Array | undefined;
  if (typeof init.body === 'string' || init.body instanceof Uint8Array) {
    body = init.body;
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
    ...(init.ca === undefined ? {} : { dispatcher: agentFor(init.ca) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers as unknown as Headers, body: parsed, text };
}
