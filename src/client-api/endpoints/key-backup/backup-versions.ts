// Key backup versions (key_backup.yaml): POST /room_keys/version (`postRoomKeysVersion`),
// GET /room_keys/version (`getRoomKeysVersionCurrent`), GET/PUT/DELETE
// /room_keys/version/{version} (`getRoomKeysVersion`, `putRoomKeysVersion`,
// `deleteRoomKeysVersion`).

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { BackupService } from '../../e2ee/backup-service.ts';

const BASE = '/_matrix/client/v3/room_keys/version';

export function backupVersionEndpoints(backup: BackupService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'POST',
      path: BASE,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      operationId: 'postRoomKeysVersion',
      handler: ({ auth, body }) => backup.createVersion(auth.userId, body),
    }),
    defineEndpoint({
      method: 'GET',
      path: BASE,
      auth: 'required',
      operationId: 'getRoomKeysVersionCurrent',
      handler: ({ auth }) => backup.getVersion(auth.userId, undefined),
    }),
    defineEndpoint({
      method: 'GET',
      path: `${BASE}/:version`,
      auth: 'required',
      operationId: 'getRoomKeysVersion',
      handler: ({ auth, params }) => backup.getVersion(auth.userId, params['version'] ?? ''),
    }),
    defineEndpoint({
      method: 'PUT',
      path: `${BASE}/:version`,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      operationId: 'putRoomKeysVersion',
      handler: ({ auth, params, body }) => backup.updateVersion(auth.userId, params['version'] ?? '', body),
    }),
    defineEndpoint({
      method: 'DELETE',
      path: `${BASE}/:version`,
      auth: 'required',
      operationId: 'deleteRoomKeysVersion',
      handler: ({ auth, params }) => backup.deleteVersion(auth.userId, params['version'] ?? ''),
    }),
  ];
}
