// Legal holds through the admin API (issue 8 item 4):
//   POST /_stoa/admin/v1/legal_holds                     {scope: room|user, target, reason} → the hold
//   GET  /_stoa/admin/v1/legal_holds                     ?include_released=true&scope=&target=
//   GET  /_stoa/admin/v1/legal_holds/{holdId}
//   POST /_stoa/admin/v1/legal_holds/{holdId}/release    {reason?} → the released hold
//
// Creating and releasing need the `compliance` role (server admins too: see
// ../legal-hold/legal-holds.ts); listing is open to admins and compliance users. Each
// create and release is appended to the audit log with the hold's ID, scope and reason.

import { jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { forbidden, invalidParam, MatrixError, notFound } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import { COMPLIANCE_ROLE, type AdminAccess } from '../api/access.ts';
import { boolParam, enumParam } from '../api/params.ts';
import { holdJson, LegalHoldError, type LegalHolds } from '../legal-hold/legal-holds.ts';

export interface LegalHoldEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly holds: LegalHolds;
}

interface CreateHoldBody extends JsonObject {
  scope: string;
  target: string;
  reason: string;
}

const CREATE_BODY = jsonBody<CreateHoldBody>({
  type: 'object',
  required: ['scope', 'target', 'reason'],
  properties: { scope: { type: 'string' }, target: { type: 'string' }, reason: { type: 'string' } },
});
const RELEASE_BODY = jsonBody<{ reason?: string }>({ type: 'object', properties: { reason: { type: 'string', maxLength: 2000 } } });

export function legalHoldEndpoints(deps: LegalHoldEndpointsDeps): Endpoint[] {
  const { access, repository, holds } = deps;
  const requireComplianceRole = async (userId: string): Promise<void> => {
    const { roles } = await repository.accessOf(userId);
    if (!roles.includes(COMPLIANCE_ROLE)) {
      throw forbidden('Only users with the compliance role may create or release legal holds');
    }
  };
  const holdError = (error: unknown): never => {
    if (!(error instanceof LegalHoldError)) throw error;
    if (error.kind === 'not-found') throw notFound(error.message);
    if (error.kind === 'released') throw new MatrixError(409, 'M_UNKNOWN', error.message);
    throw invalidParam(error.message);
  };

  return [
    access.endpoint({
      method: 'POST',
      path: '/_stoa/admin/v1/legal_holds',
      access: 'read',
      body: CREATE_BODY,
      handler: async ({ body, auth }, call) => {
        await requireComplianceRole(auth.userId);
        const hold = await holds.create({ scope: body.scope, target: body.target, reason: body.reason, createdBy: auth.userId }).catch(holdError);
        await call.audit('legal-hold-create', hold.target, { hold_id: hold.holdId, scope: hold.scope, reason: hold.reason });
        return holdJson(hold);
      },
    }),
    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/legal_holds',
      access: 'read',
      action: 'list-legal-holds',
      handler: async ({ query }) => {
        const scopeText = enumParam(query, 'scope', ['room', 'user', ''], '');
        const target = query.get('target');
        const list = await holds.list({
          includeReleased: boolParam(query, 'include_released', false),
          ...(scopeText === '' ? {} : { scope: scopeText }),
          ...(target === null || target === '' ? {} : { target }),
        });
        return { legal_holds: list.map(holdJson), total: list.length };
      },
    }),
    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/legal_holds/:holdId',
      access: 'read',
      action: 'read-legal-hold',
      target: ({ params }) => params['holdId'] ?? null,
      handler: async ({ params }) => {
        const hold = await holds.find(params['holdId'] ?? '');
        if (hold === undefined) throw notFound('No such legal hold');
        return holdJson(hold);
      },
    }),
    access.endpoint({
      method: 'POST',
      path: '/_stoa/admin/v1/legal_holds/:holdId/release',
      access: 'read',
      body: RELEASE_BODY,
      handler: async ({ params, body, auth }, call) => {
        await requireComplianceRole(auth.userId);
        const hold = await holds.release(params['holdId'] ?? '', auth.userId).catch(holdError);
        await call.audit('legal-hold-release', hold.target, {
          hold_id: hold.holdId,
          scope: hold.scope,
          ...(body.reason === undefined ? {} : { reason: body.reason }),
        });
        return holdJson(hold);
      },
    }),
  ];
}
