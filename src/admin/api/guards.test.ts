// The admin API's wrappers around the client API (issue 8 item 5): room blocks refuse
// joins, knocks and invites (v3 and legacy r0 paths); shadow bans answer sends without
// sending; rate-limit overrides replace the message bucket for one user only.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineEndpoint, type Endpoint, type EndpointRequest, type RateLimiter } from '../../http/define-endpoint.ts';
import { isMatrixError } from '../../http/matrix-error.ts';
import { createLogger } from '../../logger.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import { guardBlockedRooms } from './blocked-rooms.ts';
import { RateLimitOverrides } from './rate-limit-overrides.ts';
import { ShadowBans } from './shadow-ban.ts';

const logger = createLogger('error');

function endpoint(method: 'GET' | 'POST' | 'PUT', path: string, calls: string[]): Endpoint {
  return defineEndpoint({
    method,
    path,
    auth: 'required',
    handler: () => {
      calls.push(`${method} ${path}`);
      return { handled: true };
    },
  });
}

function requestFor(userId: string, params: Record<string, string>): EndpointRequest<unknown, unknown> {
  return { params, query: new URLSearchParams(), body: undefined, rawBody: undefined, auth: { userId, deviceId: 'D', isGuest: false }, log: logger, ctx: {} as never };
}

async function outcome(endpoints: readonly Endpoint[], path: string, request: EndpointRequest<unknown, unknown>): Promise<unknown> {
  const found = endpoints.find((e) => e.path === path);
  assert.ok(found, path);
  try {
    return await found.handler(request);
  } catch (error) {
    return isMatrixError(error) ? `${error.status} ${error.errcode}` : error;
  }
}

describe('blocked rooms guard', () => {
  test('joins (by ID or local alias), knocks and invites into a blocked room are refused; others pass', async () => {
    const calls: string[] = [];
    const paths = [
      '/_matrix/client/v3/rooms/:roomId/join',
      '/_matrix/client/v3/join/:roomIdOrAlias',
      '/_matrix/client/r0/join/:roomIdOrAlias',
      '/_matrix/client/v3/knock/:roomIdOrAlias',
      '/_matrix/client/v3/rooms/:roomId/invite',
      '/_matrix/client/v3/rooms/:roomId/leave',
    ];
    const guarded = guardBlockedRooms(
      paths.map((p) => endpoint('POST', p, calls)),
      {
        repository: { roomBlock: async (roomId: string) => (roomId === '!blocked:x' ? { blockedBy: '@admin:x' } : undefined) },
        aliases: { find: async (alias: string) => (alias === '#blocked:x' ? { alias, roomId: '!blocked:x', creator: '@a:x', createdTs: 0 } : undefined) },
      },
    );
    const blocked = { roomId: '!blocked:x', roomIdOrAlias: '!blocked:x' };
    for (const path of paths.slice(0, 5)) assert.equal(await outcome(guarded, path, requestFor('@u:x', blocked)), '403 M_FORBIDDEN', path);
    assert.equal(await outcome(guarded, '/_matrix/client/v3/join/:roomIdOrAlias', requestFor('@u:x', { roomIdOrAlias: '#blocked:x' })), '403 M_FORBIDDEN');
    assert.deepEqual(await outcome(guarded, '/_matrix/client/v3/rooms/:roomId/leave', requestFor('@u:x', blocked)), { handled: true });
    assert.deepEqual(await outcome(guarded, '/_matrix/client/v3/rooms/:roomId/join', requestFor('@u:x', { roomId: '!open:x' })), { handled: true });
    assert.deepEqual(calls, ['POST /_matrix/client/v3/rooms/:roomId/leave', 'POST /_matrix/client/v3/rooms/:roomId/join']);
  });
});

describe('shadow bans', () => {
  test('a banned user\'s sends get a made-up event ID without reaching the handler; membership passes', async () => {
    const repository = { shadowBannedUsers: async () => ['@spam:x'], setShadowBanned: async () => {} } as unknown as AdminRepository;
    const bans = new ShadowBans({ repository, logger });
    await bans.start();
    try {
      const calls: string[] = [];
      const send = '/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId';
      const state = '/_matrix/client/v3/rooms/:roomId/state/:eventType/:stateKey';
      const guarded = bans.guard([endpoint('PUT', send, calls), endpoint('PUT', state, calls), endpoint('POST', '/_matrix/client/v3/rooms/:roomId/invite', calls)]);
      const sent = (await outcome(guarded, send, requestFor('@spam:x', { roomId: '!r:x' }))) as { event_id?: string };
      assert.match(sent.event_id ?? '', /^\$[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(await outcome(guarded, '/_matrix/client/v3/rooms/:roomId/invite', requestFor('@spam:x', {})), {});
      assert.deepEqual(await outcome(guarded, state, requestFor('@spam:x', { eventType: 'm.room.member' })), { handled: true });
      assert.deepEqual(await outcome(guarded, send, requestFor('@good:x', {})), { handled: true });
      assert.deepEqual(calls, [`PUT ${state}`, `PUT ${send}`]);
      await bans.set('@spam:x', false, '@admin:x', 1);
      assert.deepEqual(await outcome(guarded, send, requestFor('@spam:x', {})), { handled: true });
    } finally {
      bans.close();
    }
  });
});

describe('rate-limit overrides', () => {
  test('the override replaces the message bucket for that user only; 0 means unlimited', async () => {
    const stored: Array<{ userId: string; messagesPerSecond: number; burstCount: number }> = [{ userId: '@bot:x', messagesPerSecond: 0, burstCount: 0 }];
    const repository = {
      rateLimitOverrides: async () => stored,
      setRateLimitOverride: async () => {},
      deleteRateLimitOverride: async () => {},
    } as unknown as AdminRepository;
    const made: Array<{ perSecond: number; burst: number }> = [];
    const overrides = new RateLimitOverrides({
      repository,
      logger,
      factory: (limits) => {
        made.push(limits);
        return { consume: () => 7 };
      },
    });
    await overrides.start();
    try {
      const inner: RateLimiter = { consume: (bucket, key) => (bucket === 'message' && key === 'user:@bot:x' ? 99 : 1) };
      const limiter = overrides.wrap(inner);
      assert.equal(limiter.consume('message', 'user:@bot:x'), 0, 'exempt');
      assert.equal(limiter.consume('login', 'user:@bot:x'), 1, 'other buckets are not overridden');
      assert.equal(limiter.consume('message', 'user:@other:x'), 1);
      await overrides.set('@bot:x', { messagesPerSecond: 2, burstCount: 5 });
      assert.deepEqual(made, [{ perSecond: 2, burst: 5 }]);
      assert.equal(limiter.consume('message', 'user:@bot:x'), 7, 'the override\'s own limiter');
      await overrides.delete('@bot:x');
      assert.equal(limiter.consume('message', 'user:@bot:x'), 99, 'back to the shared limits');
    } finally {
      overrides.close();
    }
  });
});
