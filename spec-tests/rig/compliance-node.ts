// A node for the compliance suites (issue 8): on PostgreSQL when STOA_TEST_POSTGRES_URL is
// set, retention's timer off (the tests run purges through the admin API, when they
// choose), a server admin, a compliance officer (the role granted through the admin API)
// and two ordinary users.

import { clientCalls, ok } from './client-calls.ts';
import { startNodes, testPostgresUrl, type TestNode } from './nodes.ts';
import { registerUser, type RegisteredUser } from './users.ts';

export interface ComplianceNode {
  readonly node: TestNode;
  readonly admin: RegisteredUser;
  readonly officer: RegisteredUser;
  readonly alice: RegisteredUser;
  readonly bob: RegisteredUser;
}

export async function startComplianceNode(): Promise<ComplianceNode> {
  const [node] = (await startNodes(1, {
    ...(testPostgresUrl() === undefined ? {} : { engine: 'postgres' as const }),
    configOverrides: { retention: { enabled: false, redaction_retention_period_ms: null } },
  })) as [TestNode];
  const admin = await registerUser(node, 'admin', { admin: true });
  const officer = await registerUser(node, 'officer');
  const alice = await registerUser(node, 'alice');
  const bob = await registerUser(node, 'bob');
  await ok(clientCalls(node.clientUrl).call(admin, 'PUT', `/_stoa/admin/v1/users/${encodeURIComponent(officer.userId)}/roles/compliance`));
  return { node, admin, officer, alice, bob };
}
