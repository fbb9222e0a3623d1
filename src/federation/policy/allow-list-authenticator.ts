// The operator's federation allow/deny lists applied to every inbound federation request:
// the origin a request claims is checked before any key of it is fetched (a denied server
// must not make us call it), then the signature, then the proven origin again. A refused
// server gets 403 M_FORBIDDEN, the spec's answer to a server denied access, and a log line.

import type { FederationAuthenticator, FederationOrigin, FederationRequest } from '../../http/define-endpoint.ts';
import { forbidden } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { parseAuthorizationHeaders } from '../server/x-matrix-auth.ts';
import type { FederationAllowList } from './federation-allow-list.ts';

export class AllowListAuthenticator implements FederationAuthenticator {
  readonly #inner: FederationAuthenticator;
  readonly #allowList: FederationAllowList;
  readonly #logger: Logger;

  constructor(inner: FederationAuthenticator, allowList: FederationAllowList, logger: Logger) {
    this.#inner = inner;
    this.#allowList = allowList;
    this.#logger = logger;
  }

  async authenticate(request: FederationRequest): Promise<FederationOrigin> {
    // A missing or malformed header is the inner authenticator's 401 to give.
    const claimed = parseAuthorizationHeaders(request.authorization)[0]?.origin;
    if (claimed !== undefined) this.#check(claimed, request);
    const origin = await this.#inner.authenticate(request);
    this.#check(origin.serverName, request);
    return origin;
  }

  #check(serverName: string, request: FederationRequest): void {
    const decision = this.#allowList.decide(serverName);
    if (decision === 'allow') return;
    this.#logger.warn(
      { server: serverName, decision, method: request.method, path: request.uri.split('?')[0] },
      'federation refused: server not allowed by federation.allow/deny',
    );
    throw forbidden('Federation with this server is not allowed');
  }
}
