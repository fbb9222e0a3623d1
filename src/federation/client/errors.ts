// What can go wrong when we call another server, as types the caller can act on: a remote
// Matrix error (its status and errcode, e.g. to stop retrying on 403), a failure to reach
// the server at all (retry later, back off), or a response we cannot use.

import type { JsonObject } from '../../rooms/json.ts';

export abstract class FederationRequestError extends Error {
  readonly destination: string;
  constructor(destination: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.destination = destination;
  }
}

/** The server answered with a non-2xx status. `errcode` is set when the body was a Matrix error. */
export class RemoteMatrixError extends FederationRequestError {
  override name = 'RemoteMatrixError';
  readonly status: number;
  readonly errcode: string | undefined;
  /** The error body when it was a JSON object. */
  readonly body: JsonObject | undefined;
  constructor(destination: string, status: number, errcode: string | undefined, body: JsonObject | undefined, message: string) {
    super(destination, `${destination} answered ${status}${errcode === undefined ? '' : ` ${errcode}`}: ${message}`);
    this.status = status;
    this.errcode = errcode;
    this.body = body;
  }
}

export type ConnectionFailure =
  /** No address: NXDOMAIN, no A/AAAA records, or a name that is not a server name. */
  | 'dns'
  /** Every address is loopback/private/link-local and `allow_private_addresses` is off. */
  | 'forbidden-address'
  /** The certificate did not verify (untrusted, expired, wrong name). */
  | 'tls'
  | 'timeout'
  /** Refused, reset, unreachable, closed mid-response. */
  | 'network';

/** We could not get a response from the server. */
export class FederationConnectionError extends FederationRequestError {
  override name = 'FederationConnectionError';
  readonly failure: ConnectionFailure;
  constructor(destination: string, failure: ConnectionFailure, message: string, options?: ErrorOptions) {
    super(destination, `${destination}: ${message}`, options);
    this.failure = failure;
  }
}

export type ResponseProblem = 'too-large' | 'not-json' | 'not-an-object';

/** A 2xx response we cannot use. */
export class FederationResponseError extends FederationRequestError {
  override name = 'FederationResponseError';
  readonly problem: ResponseProblem;
  constructor(destination: string, problem: ResponseProblem, message: string) {
    super(destination, `${destination}: ${message}`);
    this.problem = problem;
  }
}
