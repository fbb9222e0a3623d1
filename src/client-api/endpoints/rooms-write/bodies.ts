// Request-body schemas shared by the membership endpoints (joining.yaml, knocking.yaml,
// leaving.yaml, inviting.yaml, kicking.yaml, banning.yaml).

import { jsonBody } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';

export interface ReasonBody extends JsonObject {
  reason?: string;
}

export interface TargetBody extends JsonObject {
  user_id: string;
  reason?: string;
}

export const REASON_BODY = jsonBody<ReasonBody>({
  type: 'object',
  properties: { reason: { type: 'string' } },
});

export const TARGET_BODY = jsonBody<TargetBody>({
  type: 'object',
  properties: { user_id: { type: 'string', pattern: '^@' }, reason: { type: 'string' } },
  required: ['user_id'],
});

/** joining.yaml: `reason`, and `third_party_signed` for third-party invites. */
export interface JoinBody extends JsonObject {
  reason?: string;
}

export const JOIN_BODY = jsonBody<JoinBody>({
  type: 'object',
  properties: { reason: { type: 'string' }, third_party_signed: { type: 'object' } },
});
