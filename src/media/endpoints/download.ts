// Downloads and thumbnails for clients: the authenticated /_matrix/client/v1/media routes
// (client-server § "Content repository", v1.11) and the deprecated unauthenticated
// /_matrix/media/v3 ones, which serve only media stored before the configured freeze.

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import type { MediaService } from '../media-service.ts';
import { downloadDisposition, fetchOptions, serveMedia, thumbnailDisposition, thumbnailRequest, withMediaHeaders } from './http-helpers.ts';

export function downloadEndpoints(media: MediaService): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const variant of [
    { prefix: '/_matrix/client/v1/media', legacy: false, auth: 'required', suffix: 'Authed' },
    { prefix: '/_matrix/media/v3', legacy: true, auth: 'none', suffix: '' },
  ] as const) {
    for (const withName of [false, true]) {
      endpoints.push(
        defineEndpoint({
          method: 'GET',
          path: `${variant.prefix}/download/:serverName/:mediaId${withName ? '/:fileName' : ''}`,
          auth: variant.auth,
          operationId: `${withName ? 'getContentOverrideName' : 'getContent'}${variant.suffix}`,
          async handler({ params, query, ctx }) {
            withMediaHeaders(ctx);
            const served = await media.download(params['serverName'] ?? '', params['mediaId'] ?? '', fetchOptions(query, variant.legacy));
            return serveMedia(ctx, served, downloadDisposition(served, withName ? params['fileName'] : undefined));
          },
        }),
      );
    }
    endpoints.push(
      defineEndpoint({
        method: 'GET',
        path: `${variant.prefix}/thumbnail/:serverName/:mediaId`,
        auth: variant.auth,
        operationId: `getContentThumbnail${variant.suffix}`,
        async handler({ params, query, ctx }) {
          withMediaHeaders(ctx);
          const request = thumbnailRequest(query);
          const served = await media.thumbnail(params['serverName'] ?? '', params['mediaId'] ?? '', request, fetchOptions(query, variant.legacy));
          return serveMedia(ctx, served, thumbnailDisposition(served));
        },
      }),
    );
  }
  return endpoints;
}

/** GET …/media/config: the upload limit (both the v1 and the deprecated v3 path need a token). */
export function configEndpoints(media: MediaService): Endpoint[] {
  return [
    ['/_matrix/client/v1/media/config', 'getConfigAuthed'],
    ['/_matrix/media/v3/config', 'getConfig'],
  ].map(([path, operationId]) =>
    defineEndpoint({
      method: 'GET',
      path: path ?? '',
      auth: 'required',
      ...(operationId === undefined ? {} : { operationId }),
      handler({ ctx }) {
        withMediaHeaders(ctx);
        return { 'm.upload.size': media.maxUploadBytes };
      },
    }),
  );
}
