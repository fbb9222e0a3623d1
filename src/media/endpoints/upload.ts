// POST /_matrix/media/v3/upload, POST /_matrix/media/v1/create and
// PUT /_matrix/media/v3/upload/{serverName}/{mediaId} (client-server § "Content repository").
// No `body` in the descriptors: the app leaves the request stream unread and the handlers
// stream it into the blob store under the media limit, not the JSON one.

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import type { MediaService } from '../media-service.ts';
import { discardBody, requestBytes, withMediaHeaders } from './http-helpers.ts';

export function uploadEndpoints(media: MediaService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/media/v3/upload',
      auth: 'required',
      rateLimit: 'media_upload',
      operationId: 'uploadContent',
      async handler({ auth, query, ctx }) {
        withMediaHeaders(ctx);
        try {
          const contentUri = await media.upload({
            userId: auth.userId,
            contentType: ctx.get('Content-Type') || undefined,
            filename: query.get('filename') ?? undefined,
            declaredLength: ctx.req.headers['content-length'],
            body: requestBytes(ctx.req),
          });
          return { content_uri: contentUri };
        } catch (error) {
          discardBody(ctx);
          throw error;
        }
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/media/v1/create',
      auth: 'required',
      rateLimit: 'media_create',
      operationId: 'createContent',
      async handler({ auth, ctx }) {
        withMediaHeaders(ctx);
        const created = await media.create(auth.userId);
        return { content_uri: created.contentUri, unused_expires_at: created.unusedExpiresAt };
      },
    }),
    defineEndpoint({
      method: 'PUT',
      path: '/_matrix/media/v3/upload/:serverName/:mediaId',
      auth: 'required',
      rateLimit: 'media_upload',
      operationId: 'uploadContentToMXC',
      async handler({ auth, params, query, ctx }) {
        withMediaHeaders(ctx);
        try {
          await media.uploadTo(params['serverName'] ?? '', params['mediaId'] ?? '', {
            userId: auth.userId,
            contentType: ctx.get('Content-Type') || undefined,
            filename: query.get('filename') ?? undefined,
            declaredLength: ctx.req.headers['content-length'],
            body: requestBytes(ctx.req),
          });
          return {};
        } catch (error) {
          discardBody(ctx);
          throw error;
        }
      },
    }),
  ];
}
