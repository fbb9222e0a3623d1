// Room members made cheaply: an application service (no URL, nothing pushed to it) whose
// namespace holds the benchmark's members. Registering its users needs no password hash and
// no device, and it joins them by masquerading (`?user_id=`), on Stoa and Synapse alike, so
// building a room of 10,000 members costs the joins and little else.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MatrixHttp } from '../send-sync/matrix-http.ts';

/** Localparts of the members: `<MEMBER_PREFIX><tag>_<i>`. */
export const MEMBER_PREFIX = 'asbench_';

export interface BenchAppservice {
  readonly asToken: string;
  /** The registration file's text. */
  readonly yaml: string;
}

export function benchAppservice(): BenchAppservice {
  const asToken = randomBytes(24).toString('hex');
  const yaml = [
    'id: stoa-bench-members',
    'url: null',
    `as_token: ${asToken}`,
    `hs_token: ${randomBytes(24).toString('hex')}`,
    'sender_localpart: asbench_bot',
    'rate_limited: false',
    'namespaces:',
    `  users: [{ exclusive: true, regex: "@${MEMBER_PREFIX}.*" }]`,
    '  rooms: []',
    '  aliases: []',
    '',
  ].join('\n');
  return { asToken, yaml };
}

/** Writes the registration to a temporary file for a Stoa node's `app_service_config_files`. */
export async function writeRegistration(service: BenchAppservice): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'stoa-bench-as-'));
  const path = join(dir, 'registration.yaml');
  await writeFile(path, service.yaml);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Registers `@<localpart>` in the appservice's namespace, without a device; returns the user ID. */
export async function registerMember(http: MatrixHttp, service: BenchAppservice, localpart: string): Promise<string> {
  const res = await http.call<{ user_id: string }>('POST', '/_matrix/client/v3/register', {
    token: service.asToken,
    body: { type: 'm.login.application_service', username: localpart, inhibit_login: true },
  });
  return res.user_id;
}

/** Joins `userId` (a namespace user) to a local room. */
export async function joinMember(http: MatrixHttp, service: BenchAppservice, userId: string, roomId: string): Promise<void> {
  await http.call('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?user_id=${encodeURIComponent(userId)}`, { token: service.asToken, body: {} });
}
