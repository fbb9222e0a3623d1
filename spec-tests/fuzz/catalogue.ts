// The endpoints to fuzz: every client-server and server-server endpoint listed in the spec's
// endpoints.json, each with its request shape (parameters, body schema) from the OpenAPI.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { operationRequest, specDirectory, type OperationRequest, type RequestParameter } from '../rig/openapi.ts';

export type Listener = 'client' | 'federation';

export interface FuzzEndpoint {
  /** `client-server:sendMessage`. */
  readonly id: string;
  readonly api: 'client-server' | 'server-server';
  readonly method: string;
  /** Template with `{param}`s, as endpoints.json lists it. */
  readonly path: string;
  readonly listener: Listener;
  /** endpoints.json's `auth`: required | optional | none. */
  readonly auth: string;
  /** Whether it authenticates with X-Matrix (else with an access token, when auth is not none). */
  readonly xMatrix: boolean;
  readonly parameters: readonly RequestParameter[];
  readonly bodySchema: unknown;
  readonly bodyContentType: string | undefined;
  /** The request body accepts User-Interactive Authentication data. */
  readonly uia: boolean;
}

interface ListedEndpoint {
  readonly api: string;
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
  readonly auth: string;
  readonly authSchemes: readonly string[];
  readonly uia: boolean;
}

/** The client-server and server-server endpoints of endpoints.json, in its order. */
export function loadEndpoints(): FuzzEndpoint[] {
  const file = join(specDirectory(), 'endpoints.json');
  const listed = (JSON.parse(readFileSync(file, 'utf8')) as { endpoints: ListedEndpoint[] }).endpoints;
  const out: FuzzEndpoint[] = [];
  for (const entry of listed) {
    if (entry.api !== 'client-server' && entry.api !== 'server-server') continue;
    const id = `${entry.api}:${entry.operationId}`;
    let shape: OperationRequest | undefined;
    try {
      shape = operationRequest(id);
    } catch {
      shape = undefined;
    }
    out.push({
      id,
      api: entry.api,
      method: entry.method.toUpperCase(),
      path: entry.path,
      listener: entry.api === 'client-server' ? 'client' : 'federation',
      auth: entry.auth,
      xMatrix: entry.authSchemes.includes('X-Matrix'),
      parameters: shape?.parameters ?? pathParametersOf(entry.path),
      bodySchema: shape?.bodySchema,
      bodyContentType: shape?.bodyContentType ?? (entry.method === 'GET' || entry.method === 'DELETE' ? undefined : 'application/json'),
      uia: entry.uia,
    });
  }
  return out;
}

function pathParametersOf(template: string): RequestParameter[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1] ?? '', in: 'path' as const, required: true, schema: { type: 'string' } }));
}

/** `METHOD path`, the key two operations sharing a route (getEvents/peekEvents) have in common. */
export function routeKey(endpoint: Pick<FuzzEndpoint, 'method' | 'path' | 'listener'>): string {
  return `${endpoint.listener} ${endpoint.method} ${endpoint.path}`;
}
