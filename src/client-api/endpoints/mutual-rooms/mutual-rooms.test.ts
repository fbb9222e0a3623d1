import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../../http/testing.ts';
import { mutualRoomsEndpoints } from './index.ts';

const ALICE = '@alice:stoa.test';
const BOB = '@bob:stoa.test';
const rooms: Record<string, string[]> = {
  [ALICE]: ['!c:x', '!a:x', '!b:x', '!only-alice:x'],
  [BOB]: ['!a:x', '!b:x', '!c:x', '!only-bob:x'],
};

test('client-server § Mutual Rooms: batches follow next_batch until none is left; count is the total', async () => {
  const app = await startApp({
    endpoints: mutualRoomsEndpoints({ roomsForUser: async (userId) => rooms[userId] ?? [] }, 2),
    accessTokens: { verify: async () => ({ userId: ALICE, deviceId: 'D', isGuest: false }) },
  });
  try {
    const get = async (query: string) => {
      const res = await fetch(`${app.url}/_matrix/client/v1/mutual_rooms?${query}`, { headers: { Authorization: 'Bearer t' } });
      assert.equal(res.status, 200);
      return (await res.json()) as { joined: string[]; count: number; next_batch?: string };
    };
    const first = await get(`user_id=${encodeURIComponent(BOB)}`);
    assert.deepEqual(first.joined, ['!a:x', '!b:x']);
    assert.equal(first.count, 3);
    assert.ok(first.next_batch !== undefined);
    const second = await get(`user_id=${encodeURIComponent(BOB)}&from=${encodeURIComponent(first.next_batch)}`);
    assert.deepEqual(second, { joined: ['!c:x'], count: 3 });
  } finally {
    await app.close();
  }
});
