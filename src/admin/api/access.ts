// Who may call the admin API, and the audit trail of what they did (issue 8 items 5 and 6).
//
// - `admin` endpoints: only server admins (`users.is_admin`); anyone else gets 403
//   M_FORBIDDEN, as Synapse answers.
// - `read` endpoints: admins, and users holding the read-only `compliance` role.
//
// Every call that changes something is appended to the hash-chained audit log after it
// succeeded (a refused or failed call changed nothing); every read by a compliance user is
// appended before it runs, so a read that streams or fails half-way is still on record.
// Admins' own reads are not logged: they could change the data anyway, and logging every
// admin dashboard refresh would bury the entries that matter.

import type { AuditLog } from '../audit-log/audit-log.ts';
import {
  defineEndpoint,
  type Endpoint,
  type EndpointRequest,
  type EndpointResult,
  type HttpMethod,
  type JsonBodySpec,
  type Requester,
} from '../../http/define-endpoint.ts';
import { forbidden } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';

export const COMPLIANCE_ROLE = 'compliance';

export interface AdminCall {
  readonly requester: Requester;
  /** False for a compliance-role user on a read endpoint. */
  readonly isAdmin: boolean;
  /** The client's address, as the audit log records it. */
  readonly origin: string;
  /** Appends an extra entry (for calls whose effect the automatic entry does not describe). */
  audit(action: string, target: string | null, details?: JsonObject): Promise<void>;
}

export interface AdminEndpointDefinition<B> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly access: 'admin' | 'read';
  readonly body?: JsonBodySpec<B>;
  /**
   * The audit-log action. `admin` endpoints are logged after success under this name;
   * `read` endpoints are logged (as `read:<action>`) when a compliance user calls them.
   * Unset on an `admin` endpoint: it changes nothing and is not logged.
   */
  readonly action?: string;
  /** The audit entry's target, from the request. */
  readonly target?: (request: EndpointRequest<Requester, B>) => string | null;
  /** Parameters worth keeping in the audit entry (never secrets or passwords). */
  readonly details?: (request: EndpointRequest<Requester, B>) => JsonObject;
  readonly handler: (request: EndpointRequest<Requester, B>, call: AdminCall) => EndpointResult | Promise<EndpointResult>;
}

export interface AdminAccessDeps {
  readonly repository: AdminRepository;
  readonly audit: AuditLog;
}

export class AdminAccess {
  readonly #repository: AdminRepository;
  readonly #audit: AuditLog;

  constructor(deps: AdminAccessDeps) {
    this.#repository = deps.repository;
    this.#audit = deps.audit;
  }

  get auditLog(): AuditLog {
    return this.#audit;
  }

  /** An admin API endpoint: token required, role checked, audited. */
  endpoint<B = undefined>(definition: AdminEndpointDefinition<B>): Endpoint {
    return defineEndpoint<'required', B>({
      method: definition.method,
      path: definition.path,
      auth: 'required',
      ...(definition.body === undefined ? {} : { body: definition.body }),
      handler: async (request) => {
        const requester = request.auth;
        const { isAdmin, roles } = await this.#repository.accessOf(requester.userId);
        const compliance = !isAdmin && definition.access === 'read' && roles.includes(COMPLIANCE_ROLE);
        if (!isAdmin && !compliance) throw forbidden('You are not a server admin');
        const origin = originOf(request);
        const target = definition.target?.(request) ?? null;
        const details = definition.details?.(request) ?? {};
        const call: AdminCall = {
          requester,
          isAdmin,
          origin,
          audit: async (action, auditTarget, auditDetails) => {
            await this.#audit.append({ actor: requester.userId, action, target: auditTarget, origin, details: auditDetails ?? {} });
          },
        };
        if (compliance && definition.action !== undefined) {
          await call.audit(`read:${definition.action}`, target, { ...details, role: COMPLIANCE_ROLE });
        }
        const result = await definition.handler(request, call);
        if (definition.access === 'admin' && definition.action !== undefined) {
          await call.audit(definition.action, target, details);
        }
        return result;
      },
    });
  }
}

/** The peer address of the request ('' when the socket is gone). */
export function originOf(request: Pick<EndpointRequest<unknown, unknown>, 'ctx'>): string {
  return request.ctx.req.socket?.remoteAddress ?? '';
}
