// Asking other servers for their directories and spaces (server-server § "Public Room
// Directory", § "Spaces"): what reaches the client when the remote fails or misbehaves.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatrixError } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { FederationConnectionError, RemoteMatrixError } from '../client/errors.ts';
import type { FederationRequest } from '../client/federation-client.ts';
import { FederationRoomDirectory } from './remote-room-directory.ts';

function directory(answer: (server: string, request: FederationRequest) => JsonObject, allowed = (_: string) => true) {
  const calls: Array<{ server: string; request: FederationRequest }> = [];
  const client = {
    request: async (server: string, request: FederationRequest) => {
      calls.push({ server, request });
      return answer(server, request);
    },
  };
  return { calls, directory: new FederationRoomDirectory({ client, serverName: 'us', isAllowed: allowed }) };
}

test('server-server-api § Public Room Directory: GET and POST forwarded, junk chunks dropped', async () => {
  const { calls, directory: dir } = directory(() => ({ chunk: [{ room_id: '!a:x', num_joined_members: 1, world_readable: false, guest_can_join: false }, 'junk'], next_batch: 5 }));
  const page = await dir.publicRooms('x', 'POST', { limit: 2, filter: { generic_search_term: 'a' } });
  assert.deepEqual(page, { chunk: [{ room_id: '!a:x', num_joined_members: 1, world_readable: false, guest_can_join: false }] });
  assert.deepEqual(calls[0]?.request.body, { limit: 2, filter: { generic_search_term: 'a' } });
  await dir.publicRooms('x', 'GET', { limit: 2, since: 't' });
  assert.deepEqual(calls[1]?.request.query, { limit: 2, since: 't' });
});

test('server-server-api § Public Room Directory: an unreachable server is 502, its 4xx errors pass through', async () => {
  const unreachable = directory(() => {
    throw new FederationConnectionError('x', 'network', 'refused');
  }).directory;
  await assert.rejects(unreachable.publicRooms('x', 'GET', {}), (err) => err instanceof MatrixError && err.status === 502 && err.errcode === 'M_UNKNOWN');
  const refusing = directory(() => {
    throw new RemoteMatrixError('x', 400, 'M_INVALID_PARAM', { errcode: 'M_INVALID_PARAM', error: 'bad since' }, 'bad since');
  }).directory;
  await assert.rejects(refusing.publicRooms('x', 'GET', {}), (err) => err instanceof MatrixError && err.status === 400 && err.errcode === 'M_INVALID_PARAM');
  const denied = directory(() => ({}), () => false).directory;
  await assert.rejects(denied.publicRooms('x', 'GET', {}), (err) => err instanceof MatrixError && err.status === 403);
});

test('server-server-api § Spaces: the first via server that describes the room answers', async () => {
  const { calls, directory: dir } = directory((server) => {
    if (server === 'down') throw new FederationConnectionError('down', 'timeout', 'timed out');
    if (server === 'wrong') return { room: { room_id: '!other:x', num_joined_members: 1 } };
    return {
      room: { room_id: '!s:x', num_joined_members: 2, world_readable: false, guest_can_join: false, room_type: 'm.space', children_state: [{ type: 'm.space.child', state_key: '!c:x', content: { via: ['x'] }, sender: '@a:x', origin_server_ts: 1 }] },
      children: [{ room_id: '!c:x', num_joined_members: 1, world_readable: true, guest_can_join: false }, { nonsense: true }],
      inaccessible_children: ['!secret:x', 7],
    };
  });
  const answer = await dir.hierarchy('!s:x', ['us', 'down', 'wrong', 'good', 'never'], true);
  assert.deepEqual(calls.map((c) => c.server), ['down', 'wrong', 'good'], 'ours skipped; at most three asked');
  assert.equal(calls[0]?.request.path, `/_matrix/federation/v1/hierarchy/${encodeURIComponent('!s:x')}`);
  assert.deepEqual(calls[0]?.request.query, { suggested_only: true });
  assert.ok(answer);
  assert.equal(answer.room.summary.roomType, 'm.space');
  assert.deepEqual(answer.room.children?.map((c) => c.roomId), ['!c:x']);
  assert.deepEqual(answer.children.map((c) => [c.summary.roomId, c.children]), [['!c:x', undefined]]);
  assert.deepEqual(answer.inaccessibleChildren, ['!secret:x']);
  assert.equal(await dir.hierarchy('!s:x', ['down'], false), undefined);
});
