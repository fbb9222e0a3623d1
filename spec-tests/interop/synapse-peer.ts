// A real Synapse for interop tests, run through `../shared/peers/synapse.sh` (Debian's
// matrix-synapse in a chroot, bound to 127.0.0.1; see that folder's README). Each peer is a
// named instance with its own data folder and ports; `stop()` stops it and deletes its
// data, so every run starts from an empty server.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { request, type HttpRequest, type HttpResponse } from '../rig/http.ts';
import { findFreePort, REPO_ROOT } from '../rig/nodes.ts';

const run = promisify(execFile);

/** Where the peer script lives: STOA_SYNAPSE_PEER_SCRIPT, else `../shared/peers/synapse.sh`. */
export function synapseScript(): string {
  return process.env['STOA_SYNAPSE_PEER_SCRIPT'] ?? resolve(REPO_ROOT, '..', 'shared', 'peers', 'synapse.sh');
}

/** Why a Synapse peer cannot run here, or undefined when it can. */
export async function synapseUnavailable(): Promise<string | undefined> {
  const script = synapseScript();
  if (!existsSync(script)) return `no peer script at ${script}`;
  try {
    const { stdout } = await run(script, ['status'], { timeout: 30_000 });
    if (stdout.includes('matrix-synapse not installed')) return `Synapse is not installed: run ${script} install`;
  } catch (err) {
    return `${script} status failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

export interface SynapseUser {
  readonly userId: string;
  readonly accessToken: string;
}

export interface SynapsePeer {
  readonly name: string;
  /** `127.0.0.1:<port>`. */
  readonly serverName: string;
  /** Plain-HTTP client API. */
  readonly clientUrl: string;
  readonly dataDir: string;
  register(localpart: string, options?: { admin?: boolean }): Promise<SynapseUser>;
  /** A client API call as `user` (path from `/_matrix/...`). */
  client(user: SynapseUser, path: string, init?: HttpRequest): Promise<HttpResponse>;
  /** The tail of homeserver.log, for failure messages. */
  logTail(lines?: number): Promise<string>;
  /** Stops Synapse and deletes its data folder. Idempotent. */
  stop(): Promise<void>;
}

interface PeerInfo {
  readonly server_name: string;
  readonly client_url: string;
  readonly data_dir: string;
}

/** Starts instance `name` on two free ports (HTTPS federation, HTTP client). */
export async function startSynapse(name: string): Promise<SynapsePeer> {
  const script = synapseScript();
  // A leftover of an aborted run would pin the old server name (and its rooms).
  await run(script, ['reset', name], { timeout: 60_000 });
  const [federationPort, clientPort] = await twoFreePorts();
  await run(script, ['start', name, String(federationPort), String(clientPort)], { timeout: 200_000 });
  const info = JSON.parse((await run(script, ['info', name])).stdout) as PeerInfo;
  let stopped: Promise<void> | undefined;
  const peer: SynapsePeer = {
    name,
    serverName: info.server_name,
    clientUrl: info.client_url,
    dataDir: info.data_dir,
    async register(localpart, options = {}) {
      const args = ['register', name, localpart, `${localpart}-secret-password`];
      if (options.admin === true) args.push('admin');
      const { stdout } = await run(script, args, { timeout: 60_000 });
      const body = JSON.parse(stdout) as { user_id?: unknown; access_token?: unknown };
      if (typeof body.user_id !== 'string' || typeof body.access_token !== 'string') {
        throw new Error(`registering ${localpart} on Synapse failed: ${stdout}`);
      }
      return { userId: body.user_id, accessToken: body.access_token };
    },
    client(user, path, init = {}) {
      return request(`${info.client_url}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${user.accessToken}`, ...init.headers },
      });
    },
    async logTail(lines = 60) {
      try {
        const text = await readFile(join(info.data_dir, 'homeserver.log'), 'utf8');
        return text.split('\n').slice(-lines).join('\n');
      } catch {
        return '(no homeserver.log)';
      }
    },
    stop() {
      stopped ??= run(script, ['reset', name], { timeout: 60_000 }).then(() => undefined);
      return stopped;
    },
  };
  return peer;
}

async function twoFreePorts(): Promise<[number, number]> {
  const first = await findFreePort();
  let second = await findFreePort();
  while (second === first) second = await findFreePort();
  return [first, second];
}
