// Backed-up room keys (key_backup.yaml), each at three scopes: all rooms
// (/room_keys/keys), one room (/room_keys/keys/{roomId}), one session
// (/room_keys/keys/{roomId}/{sessionId}); PUT, GET and DELETE, with `?version=`.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../../http/matrix-error.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import type { BackupKey } from '../../../storage/e2ee-backup-repository.ts';
import { formatBackupKey, parseBackupKey, type BackupService } from '../../e2ee/backup-service.ts';

const BASE = '/_matrix/client/v3/room_keys/keys';

export function backupKeyEndpoints(backup: BackupService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'PUT',
      path: BASE,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      operationId: 'putRoomKeys',
      handler: ({ auth, query, body }) => backup.putKeys(auth.userId, query.get('version'), parseRooms(getField(body, 'rooms'))),
    }),
    defineEndpoint({
      method: 'PUT',
      path: `${BASE}/:roomId`,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      operationId: 'putRoomKeysByRoomId',
      handler: ({ auth, params, query, body }) =>
        backup.putKeys(auth.userId, query.get('version'), parseSessions(params['roomId'] ?? '', getField(body, 'sessions'))),
    }),
    defineEndpoint({
      method: 'PUT',
      path: `${BASE}/:roomId/:sessionId`,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      operationId: 'putRoomKeyBySessionId',
      handler: ({ auth, params, query, body }) =>
        backup.putKeys(auth.userId, query.get('version'), [parseBackupKey(params['roomId'] ?? '', params['sessionId'] ?? '', body)]),
    }),
    defineEndpoint({
      method: 'GET',
      path: BASE,
      auth: 'required',
      operationId: 'getRoomKeys',
      async handler({ auth, query }) {
        return { rooms: groupByRoom(await backup.getKeys(auth.userId, query.get('version'), {})) };
      },
    }),
    defineEndpoint({
      method: 'GET',
      path: `${BASE}/:roomId`,
      auth: 'required',
      operationId: 'getRoomKeysByRoomId',
      async handler({ auth, params, query }) {
        const roomId = params['roomId'] ?? '';
        const rooms = groupByRoom(await backup.getKeys(auth.userId, query.get('version'), { roomId }));
        // "If the backup version exists but no keys are found, returns an empty sessions object."
        return (rooms[roomId] as JsonObject | undefined) ?? { sessions: {} };
      },
    }),
    defineEndpoint({
      method: 'GET',
      path: `${BASE}/:roomId/:sessionId`,
      auth: 'required',
      operationId: 'getRoomKeyBySessionId',
      async handler({ auth, params, query }) {
        const [key] = await backup.getKeys(auth.userId, query.get('version'), { roomId: params['roomId'] ?? '', sessionId: params['sessionId'] ?? '' });
        if (key === undefined) throw notFound('No key for this session');
        return formatBackupKey(key);
      },
    }),
    defineEndpoint({
      method: 'DELETE',
      path: BASE,
      auth: 'required',
      operationId: 'deleteRoomKeys',
      handler: ({ auth, query }) => backup.deleteKeys(auth.userId, query.get('version'), {}),
    }),
    defineEndpoint({
      method: 'DELETE',
      path: `${BASE}/:roomId`,
      auth: 'required',
      operationId: 'deleteRoomKeysByRoomId',
      handler: ({ auth, params, query }) => backup.deleteKeys(auth.userId, query.get('version'), { roomId: params['roomId'] ?? '' }),
    }),
    defineEndpoint({
      method: 'DELETE',
      path: `${BASE}/:roomId/:sessionId`,
      auth: 'required',
      operationId: 'deleteRoomKeyBySessionId',
      handler: ({ auth, params, query }) =>
        backup.deleteKeys(auth.userId, query.get('version'), { roomId: params['roomId'] ?? '', sessionId: params['sessionId'] ?? '' }),
    }),
  ];
}

function parseRooms(rooms: unknown): BackupKey[] {
  if (!isJsonObject(rooms as JsonObject)) throw invalidParam('rooms must be an object');
  return Object.entries(rooms as JsonObject).flatMap(([roomId, room]) => {
    if (!isJsonObject(room)) throw invalidParam(`rooms.${roomId} must be an object`);
    return parseSessions(roomId, getField(room, 'sessions'));
  });
}

function parseSessions(roomId: string, sessions: unknown): BackupKey[] {
  if (!isJsonObject(sessions as JsonObject)) throw invalidParam('sessions must be an object');
  return Object.entries(sessions as JsonObject).map(([sessionId, key]) => parseBackupKey(roomId, sessionId, key));
}

function groupByRoom(keys: readonly BackupKey[]): JsonObject {
  const rooms: Record<string, { sessions: JsonObject }> = {};
  for (const key of keys) (rooms[key.roomId] ??= { sessions: {} }).sessions[key.sessionId] = formatBackupKey(key);
  return rooms as JsonObject;
}
