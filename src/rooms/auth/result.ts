import type { AuthResult } from './types.ts';

export const ALLOW: AuthResult = Object.freeze({ allowed: true });

export function deny(rule: string, reason: string): AuthResult {
  return { allowed: false, rule, reason };
}
