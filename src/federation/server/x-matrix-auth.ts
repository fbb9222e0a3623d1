// Inbound request authentication (server-server § "Request Authentication"): the
// `FederationAuthenticator` the HTTP layer calls for `auth: 'federation'` endpoints. Every
// failure is 401 M_UNAUTHORIZED; nothing about keys is fetched for a request that names
// another destination or carries no usable header.

import type { Keyring } from '../../crypto/keyring.ts';
import { isXMatrixHeader, parseXMatrixHeader, verifyRequestSignature, XMatrixHeaderError } from '../../crypto/x-matrix.ts';
import type { XMatrixAuthorization } from '../../crypto/x-matrix.ts';
import type { FederationAuthenticator, FederationOrigin, FederationRequest } from '../../http/define-endpoint.ts';
import { unauthorized } from '../../http/matrix-error.ts';

export interface XMatrixAuthOptions {
  /** Our server name: requests must be signed for it. */
  readonly serverName: string;
  readonly keyring: Pick<Keyring, 'getVerifyKey'>;
  readonly now?: () => number;
}

/** The X-Matrix headers of a request, parsed; throws 401 when there is none or one is malformed. */
export function parseAuthorizationHeaders(values: readonly string[]): XMatrixAuthorization[] {
  // A client may fold several headers into one comma-joined value only for list-valued
  // headers; Authorization is not one, so each value is one credential.
  const headers = values.filter(isXMatrixHeader);
  if (headers.length === 0) throw unauthorized('Missing X-Matrix Authorization header');
  try {
    return headers.map(parseXMatrixHeader);
  } catch (error) {
    if (error instanceof XMatrixHeaderError) throw unauthorized(`Malformed X-Matrix Authorization header: ${error.message}`);
    throw error;
  }
}

/**
 * Authenticates a federation request and returns the origin server. With several X-Matrix
 * headers (one per signing key, as the spec's sign_json loop produces), all must name the
 * same origin and none another destination; one signature that verifies is enough.
 */
export async function authenticateXMatrix(request: FederationRequest, options: XMatrixAuthOptions): Promise<string> {
  const auths = parseAuthorizationHeaders(request.authorization);
  const origin = auths[0]?.origin;
  if (origin === undefined || auths.some((auth) => auth.origin !== origin)) {
    throw unauthorized('X-Matrix headers name different origins');
  }
  for (const auth of auths) {
    if (auth.destination !== undefined && auth.destination !== options.serverName) {
      throw unauthorized(`Request is for ${auth.destination}, not ${options.serverName}`);
    }
  }
  const now = (options.now ?? Date.now)();
  const received = { method: request.method, uri: request.uri, content: request.content };
  for (const auth of auths) {
    const key = await options.keyring.getVerifyKey(origin, auth.key, { minimumValidUntilTs: now });
    // old_verify_keys are "only valid for signing events"; a request needs a current key.
    if (key === undefined || key.expired || key.validUntilTs < now) continue;
    if (verifyRequestSignature(received, auth, options.serverName, key.publicKey)) return origin;
  }
  throw unauthorized(`Failed to verify the X-Matrix signature from ${origin}`);
}

export class XMatrixAuthenticator implements FederationAuthenticator {
  readonly #options: XMatrixAuthOptions;

  constructor(options: XMatrixAuthOptions) {
    this.#options = options;
  }

  async authenticate(request: FederationRequest): Promise<FederationOrigin> {
    return { serverName: await authenticateXMatrix(request, this.#options) };
  }
}
