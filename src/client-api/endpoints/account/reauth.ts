// The user-interactive auth flows for a signed-in user confirming a sensitive action
// (password change, deactivation, device deletion, login tokens): the account's password.
// An account without one (created by an administrator or a future SSO login) has nothing
// to re-enter, so it gets m.login.dummy, as Synapse does: the access token is the proof.

import { DUMMY, PASSWORD } from '../../auth/uia-stages.ts';
import type { AccountContext } from './context.ts';

export async function reauthFlows(context: AccountContext, userId: string | undefined): Promise<string[][]> {
  if (userId === undefined) return [[PASSWORD]];
  const user = await context.service.accounts.findUser(userId);
  return user?.passwordHash === null ? [[DUMMY]] : [[PASSWORD]];
}
