// How federation sockets are made: certificate checks (on by default; `verify_tls: false`
// and `extra_ca_paths` for tests and closed networks), the private-address guard inside the
// DNS lookup, and the classification of what went wrong into a `ConnectionFailure`.

import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { buildConnector } from 'undici';
import type { StoaConfig } from '../../config/types.ts';
import { ForbiddenAddressError, guardedLookup } from '../../net/address-guard.ts';
import type { Dns } from '../../net/dns.ts';
import type { ConnectionFailure } from './errors.ts';

export interface FederationTlsOptions {
  /** Verify the peer's certificate chain and name. Off only for tests and closed networks. */
  readonly verify: boolean;
  /** PEM certificates trusted in addition to the system's roots. */
  readonly extraCa: readonly string[];
}

/** Reads `extra_ca_paths`; a missing or unreadable file is an error at startup, not at first use. */
export async function loadFederationTls(
  federation: Pick<StoaConfig['federation'], 'verify_tls' | 'extra_ca_paths'>,
): Promise<FederationTlsOptions> {
  const extraCa = await Promise.all(federation.extra_ca_paths.map((path) => readFile(path, 'utf8')));
  return { verify: federation.verify_tls, extraCa };
}

export interface TransportOptions {
  readonly tls: FederationTlsOptions;
  readonly dns: Dns;
  readonly allowPrivateAddresses: boolean;
  readonly connectTimeoutMs: number;
}

/** undici `connect` options for a pool whose certificate must be for `tlsServerName` (or its IP). */
export function connectOptions(options: TransportOptions, tlsServerName: string | undefined): Partial<buildConnector.BuildOptions> {
  const connect: Partial<buildConnector.BuildOptions> & Record<string, unknown> = {
    rejectUnauthorized: options.tls.verify,
    lookup: guardedLookup(options.dns, options.allowPrivateAddresses),
    timeout: options.connectTimeoutMs,
  };
  // `ca` replaces the default roots, so the system's are passed along with the extra ones.
  if (options.tls.extraCa.length > 0) connect['ca'] = [...rootCertificates, ...options.tls.extraCa];
  if (tlsServerName !== undefined) connect['servername'] = tlsServerName;
  return connect;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENODATA', 'ESERVFAIL']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Every error in `error`'s cause chain (and inside AggregateErrors, as happy-eyeballs raises). */
function* errorChain(error: unknown, depth = 0): Generator<unknown> {
  if (depth > 8 || error === undefined || error === null) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* errorChain(inner, depth + 1);
  if (error instanceof Error) yield* errorChain(error.cause, depth + 1);
}

export function classifyConnectionError(error: unknown): ConnectionFailure {
  let found: ConnectionFailure = 'network';
  for (const candidate of errorChain(error)) {
    if (candidate instanceof ForbiddenAddressError) return 'forbidden-address';
    const name = candidate instanceof Error ? candidate.name : '';
    const code = typeof candidate === 'object' && candidate !== null ? (candidate as { code?: unknown }).code : undefined;
    const codeText = typeof code === 'string' ? code : '';
    if (TLS_CODES.has(codeText) || codeText.startsWith('ERR_TLS') || codeText.startsWith('ERR_SSL')) return 'tls';
    if (DNS_CODES.has(codeText)) found = 'dns';
    else if (TIMEOUT_CODES.has(codeText) || name === 'TimeoutError') found = 'timeout';
  }
  return found;
}
