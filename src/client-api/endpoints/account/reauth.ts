// The user-interactive auth flows for a signed-in user confirming a sensitive action
// (password change, deactivation, device deletion, login tokens): the account's password.
// An account signed in through single sign-on confirms there (m.login.sso). One with neither
// (created by an administrator) has nothing to re-enter, so it gets m.login.dummy, as
// Synapse does: the access token is the proof.

import { DUMMY, PASSWORD, SSO } from '../../auth/uia-stages.ts';
import type { AccountContext } from './context.ts';

export async function reauthFlows(context: AccountContext, userId: string | undefined): Promise<string[][]> {
  if (userId === undefined) return [[PASSWORD]];
  const user = await context.service.accounts.findUser(userId);
  const flows: string[][] = [];
  if (context.config.password_config.enabled && user?.passwordHash !== null) flows.push([PASSWORD]);
  // § "SSO during User-Interactive Authentication": users who sign in through a provider
  // confirm there (when password login is off, that is their only way).
  if (context.ssoLinked !== undefined && (await context.ssoLinked(userId))) flows.push([SSO]);
  return flows.length > 0 ? flows : [[DUMMY]];
}
