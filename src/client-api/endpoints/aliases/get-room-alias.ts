// GET /_matrix/client/v3/directory/room/{roomAlias} (directory.yaml `getRoomIdByAlias`).
// No authentication in the spec: aliases are public names.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { notFound } from '../../../http/matrix-error.ts';
import type { AliasDirectory } from './alias-directory.ts';

export function getRoomAliasEndpoint(aliases: AliasDirectory): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/directory/room/:roomAlias',
    auth: 'none',
    operationId: 'getRoomIdByAlias',
    handler: async ({ params }) => {
      const alias = params['roomAlias'] ?? '';
      aliases.checkSyntax(alias);
      const resolved = await aliases.resolve(alias);
      if (resolved === undefined) throw notFound(`Room alias ${alias} not found`);
      return { room_id: resolved.roomId, servers: [...resolved.servers] };
    },
  });
}
