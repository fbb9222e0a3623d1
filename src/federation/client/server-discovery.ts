// Server discovery (server-server § "Resolving server names"): from a server name to the
// address and port to connect to, the Host header to send and the name the TLS certificate
// must be for. The numbered comments are the spec's steps. DNS and the `/.well-known`
// request sit behind interfaces; the clock is injected, so caching is testable.

import { isIP } from 'node:net';
import { JsonParseError, parseJsonStrict } from '../../rooms/canonical-json.ts';
import { parseServerName } from '../../rooms/identifiers.ts';
import type { ServerName } from '../../rooms/identifiers.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';
import type { Dns, SrvRecord } from '../../net/dns.ts';

export const DEFAULT_FEDERATION_PORT = 8448;

/** Where and how to send requests for one server name. */
export interface ResolvedServer {
  readonly serverName: string;
  /** A hostname, or an IP literal (IPv6 without brackets), to connect to. */
  readonly connectHost: string;
  readonly port: number;
  readonly hostHeader: string;
  /**
   * The name the certificate must be valid for, also sent as SNI. Undefined when the
   * certificate must be for an IP address (then no SNI is sent, as § "TLS" asks).
   */
  readonly tlsServerName: string | undefined;
}

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
  readonly serverName: string;
  constructor(serverName: string, message: string) {
    super(message);
    this.serverName = serverName;
  }
}

/** What a `GET https://<hostname>/.well-known/matrix/server` produced. */
export type WellKnownResponse =
  | { readonly kind: 'response'; readonly status: number; readonly body: string; readonly cacheControl: string | undefined }
  /** No HTTP response at all: DNS, connection, TLS, timeout, too many redirects. */
  | { readonly kind: 'failure'; readonly reason: string };

export interface WellKnownFetcher {
  /** Never rejects: failures are a `failure` value. Follows redirects itself. */
  fetch(hostname: string): Promise<WellKnownResponse>;
}

export interface DiscoveryTimings {
  /** Cache for a good `/.well-known` without cache headers (spec: 24 hours). */
  readonly wellKnownDefaultMs: number;
  /** Never cache a good `/.well-known` longer than this (spec: 48 hours). */
  readonly wellKnownMaxMs: number;
  /** Nor shorter than this, whatever its headers say (Synapse: 5 minutes). */
  readonly wellKnownMinMs: number;
  /** An invalid answer (non-200, bad JSON, bad `m.server`): the spec's "up to an hour". */
  readonly wellKnownInvalidMs: number;
  /** First retry after a failed request, doubled for each failure in a row up to `wellKnownInvalidMs`. */
  readonly wellKnownFailureMs: number;
  /** How long an SRV / address answer is reused (node's resolver gives no TTLs). */
  readonly dnsMs: number;
}

export const DEFAULT_DISCOVERY_TIMINGS: DiscoveryTimings = {
  wellKnownDefaultMs: 24 * 3600_000,
  wellKnownMaxMs: 48 * 3600_000,
  wellKnownMinMs: 5 * 60_000,
  wellKnownInvalidMs: 3600_000,
  wellKnownFailureMs: 2 * 60_000,
  dnsMs: 3600_000,
};

export interface ServerDiscoveryOptions {
  readonly dns: Dns;
  readonly wellKnown: WellKnownFetcher;
  readonly now?: () => number;
  readonly timings?: Partial<DiscoveryTimings>;
}

interface WellKnownEntry {
  /** The delegated server name, or undefined when the lookup gave none (go to step 4). */
  readonly delegated: ServerName | undefined;
  readonly delegatedName: string | undefined;
  readonly expiresAt: number;
  /** Failed requests in a row, for the backoff. */
  readonly failures: number;
}

/** The `max-age` of a Cache-Control header; 0 for `no-store`/`no-cache`; undefined when absent. */
export function cacheControlMaxAgeMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const directives = header.toLowerCase().split(',').map((part) => part.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const directive of directives) {
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (match !== null) return Number(match[1]) * 1000;
  }
  return undefined;
}

/** The `m.server` of a `/.well-known/matrix/server` body, or undefined when it is invalid. */
export function parseWellKnownBody(body: string): ServerName & { readonly name: string } | undefined {
  let value;
  try {
    // wellknown.yaml: "servers parsing the response should assume that the body is JSON regardless of type".
    value = parseJsonStrict(body);
  } catch (error) {
    if (error instanceof JsonParseError) return undefined;
    throw error;
  }
  if (!isJsonObject(value)) return undefined;
  const server = getField(value, 'm.server');
  if (typeof server !== 'string') return undefined;
  const parsed = parseServerName(server);
  return parsed === undefined ? undefined : { ...parsed, name: server };
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Lowest priority first; among equals the heaviest (deterministic, unlike RFC 2782's draw). */
function pickSrv(records: readonly SrvRecord[]): SrvRecord | undefined {
  // RFC 2782: a single record with target "." means the service is decidedly not available.
  const usable = records.filter((record) => record.name !== '' && record.name !== '.');
  return [...usable].sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
}

export class ServerDiscovery {
  readonly #dns: Dns;
  readonly #wellKnown: WellKnownFetcher;
  readonly #now: () => number;
  readonly #timings: DiscoveryTimings;
  readonly #wellKnownCache = new Map<string, WellKnownEntry>();
  readonly #resolved = new Map<string, { readonly server: ResolvedServer; readonly expiresAt: number }>();
  readonly #inFlight = new Map<string, Promise<ResolvedServer>>();

  constructor(options: ServerDiscoveryOptions) {
    this.#dns = options.dns;
    this.#wellKnown = options.wellKnown;
    this.#now = options.now ?? Date.now;
    this.#timings = { ...DEFAULT_DISCOVERY_TIMINGS, ...options.timings };
  }

  /** Resolves `serverName`; throws `DiscoveryError` for a name that is not a server name. */
  async resolve(serverName: string): Promise<ResolvedServer> {
    const parsed = parseServerName(serverName);
    if (parsed === undefined) throw new DiscoveryError(serverName, `${JSON.stringify(serverName)} is not a server name`);
    // Steps 1 and 2 need no lookup here: the address is resolved when connecting.
    if (parsed.kind !== 'dns' || parsed.port !== undefined) return this.#direct(serverName, parsed, serverName);

    const cached = this.#resolved.get(serverName);
    if (cached !== undefined && cached.expiresAt > this.#now()) return cached.server;
    const running = this.#inFlight.get(serverName);
    if (running !== undefined) return running;
    const resolving = this.#resolveDelegation(serverName, parsed.host).finally(() => this.#inFlight.delete(serverName));
    this.#inFlight.set(serverName, resolving);
    return resolving;
  }

  /** Forgets what is cached for `serverName` (e.g. after its address stopped answering). */
  invalidate(serverName: string): void {
    this.#resolved.delete(serverName);
  }

  /** Steps 1, 2, 3.1 and 3.2: an IP literal, or a hostname with an explicit port. */
  #direct(serverName: string, name: ServerName, hostHeader: string): ResolvedServer {
    const connectHost = stripBrackets(name.host);
    return {
      serverName,
      connectHost,
      port: name.port ?? DEFAULT_FEDERATION_PORT,
      hostHeader,
      tlsServerName: name.kind === 'dns' ? name.host : undefined,
    };
  }

  async #resolveDelegation(serverName: string, hostname: string): Promise<ResolvedServer> {
    // 3. /.well-known/matrix/server
    const wellKnown = await this.#lookupWellKnown(hostname);
    const delegated = wellKnown.delegated;
    let server: ResolvedServer;
    if (delegated !== undefined && wellKnown.delegatedName !== undefined) {
      if (delegated.kind !== 'dns' || delegated.port !== undefined) {
        // 3.1 IP literal (Host: the IP, with the port if given) / 3.2 hostname and port.
        server = this.#direct(serverName, delegated, wellKnown.delegatedName);
      } else {
        // 3.3–3.5: SRV for the delegated hostname, else its address on 8448; Host and
        // certificate are the delegated hostname.
        server = await this.#viaSrv(serverName, delegated.host);
      }
    } else {
      // 4–6: SRV for the server's own hostname, else its address on 8448.
      server = await this.#viaSrv(serverName, hostname);
    }
    const expiresAt = Math.min(wellKnown.expiresAt, this.#now() + this.#timings.dnsMs);
    this.#resolved.set(serverName, { server, expiresAt });
    return server;
  }

  async #viaSrv(serverName: string, hostname: string): Promise<ResolvedServer> {
    const base = { serverName, hostHeader: hostname, tlsServerName: hostname };
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      let records: SrvRecord[];
      try {
        records = await this.#dns.resolveSrv(`${service}.${hostname}`);
      } catch {
        // A resolver failure is treated like "no record": the next step still has a chance.
        records = [];
      }
      const record = pickSrv(records);
      if (record !== undefined) {
        return { ...base, connectHost: record.name.replace(/\.$/, ''), port: record.port };
      }
    }
    return { ...base, connectHost: hostname, port: DEFAULT_FEDERATION_PORT };
  }

  async #lookupWellKnown(hostname: string): Promise<WellKnownEntry> {
    const now = this.#now();
    const cached = this.#wellKnownCache.get(hostname);
    if (cached !== undefined && cached.expiresAt > now) return cached;

    const response = await this.#wellKnown.fetch(hostname);
    const t = this.#timings;
    let entry: WellKnownEntry;
    if (response.kind === 'failure' || response.status >= 500) {
      const failures = (cached?.failures ?? 0) + 1;
      const backoff = Math.min(t.wellKnownFailureMs * 2 ** (failures - 1), t.wellKnownInvalidMs);
      entry = { delegated: undefined, delegatedName: undefined, expiresAt: now + backoff, failures };
    } else {
      const parsed = response.status === 200 ? parseWellKnownBody(response.body) : undefined;
      if (parsed === undefined) {
        entry = { delegated: undefined, delegatedName: undefined, expiresAt: now + t.wellKnownInvalidMs, failures: 0 };
      } else {
        const maxAge = cacheControlMaxAgeMs(response.cacheControl) ?? t.wellKnownDefaultMs;
        const lifetime = Math.min(Math.max(maxAge, t.wellKnownMinMs), t.wellKnownMaxMs);
        entry = { delegated: parsed, delegatedName: parsed.name, expiresAt: now + lifetime, failures: 0 };
      }
    }
    this.#wellKnownCache.set(hostname, entry);
    return entry;
  }
}

/** `https://host:port` for undici, bracketing IPv6 literals. */
export function originUrl(server: Pick<ResolvedServer, 'connectHost' | 'port'>): string {
  const host = isIP(server.connectHost) === 6 ? `[${server.connectHost}]` : server.connectHost;
  return `https://${host}:${server.port}`;
}
