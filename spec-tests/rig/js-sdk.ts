// Running matrix-js-sdk quietly inside node:test. Importing this module silences the sdk's
// logging (it logs every sync at debug level) and unrefs its long timers: the sdk arms a
// plain timer per /sync request for its client-side timeout (poll timeout + 80 s) and one
// of 60 s per other request that is never cleared; stopClient() leaves them armed, which
// would hold the test process open for up to two minutes after the last test. Unref'd
// timers still fire while anything else keeps the process alive, so the sdk behaves exactly
// as it would otherwise. Below: crypto clients, new devices and waiting, shared by the
// end-to-end encryption tests.

import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { request } from './http.ts';
import type { TestNode } from './nodes.ts';
import type { RegisteredUser } from './users.ts';
import { logger as sdkGlobalLogger, type Logger } from 'matrix-js-sdk/lib/logger.js';

/** For each client's `logger` option. */
export const silentSdkLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild: () => silentSdkLogger,
};
// The global logger and every logger derived from it from now on (MatrixRTC, per room).
Object.assign(sdkGlobalLogger, silentSdkLogger, { log() {} });

const LONG_TIMER_MS = 60_000;
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = Object.assign(
  (handler: (...a: unknown[]) => void, delay?: number, ...args: unknown[]): NodeJS.Timeout => {
    const timer = realSetTimeout(handler, delay, ...args);
    if (typeof delay === 'number' && delay >= LONG_TIMER_MS) timer.unref();
    return timer;
  },
  { __promisify__: realSetTimeout.__promisify__ },
) as typeof globalThis.setTimeout;

// --- Clients with Rust crypto, for the end-to-end encryption tests ---


const WAIT_MS = 30_000;

/** Every non-2xx answer any crypto client got, for the message of a timed-out wait. */
const failedRequests: string[] = [];

function recordingFetch(name: string): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok) {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      failedRequests.push(`${name}: ${init?.method ?? 'GET'} ${url.pathname} -> ${response.status} ${await response.clone().text()}`);
    }
    return response;
  };
}

/** Polls `check` until it holds; fails after `timeoutMs` listing the requests that failed meanwhile. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; failed requests: ${failedRequests.join('\n') || 'none'}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A started client with Rust crypto (in memory) for `user`'s device, after its first sync. */
export async function cryptoClient(node: TestNode, user: RegisteredUser, name: string): Promise<sdk.MatrixClient> {
  const client = sdk.createClient({
    baseUrl: node.clientUrl,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
    logger: silentSdkLogger,
    fetchFn: recordingFetch(name),
  });
  await client.initRustCrypto({ useIndexedDB: false });
  await client.startClient({ initialSyncLimit: 10 });
  await until(`${name}'s first sync`, () => client.isInitialSyncComplete());
  return client;
}

/** Logs `user` in again with their password: a new device (client-server § POST /login). */
export async function loginNewDevice(node: TestNode, user: RegisteredUser): Promise<RegisteredUser> {
  const res = await request(`${node.clientUrl}/_matrix/client/v3/login`, {
    method: 'POST',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: user.password },
  });
  const body = res.body as { access_token?: unknown; device_id?: unknown } | undefined;
  if (res.status !== 200 || typeof body?.access_token !== 'string' || typeof body.device_id !== 'string') {
    throw new Error(`login of ${user.userId} answered ${res.status} ${res.text}`);
  }
  return { ...user, accessToken: body.access_token, deviceId: body.device_id };
}

/** The decrypted bodies of m.room.message events in the room's live timeline. */
export function decryptedBodies(client: sdk.MatrixClient, roomId: string): string[] {
  const room = client.getRoom(roomId);
  if (room === null) return [];
  return room
    .getLiveTimeline()
    .getEvents()
    .filter((e) => e.isEncrypted() && !e.isDecryptionFailure() && e.getType() === 'm.room.message')
    .map((e) => String(e.getContent()['body']));
}
