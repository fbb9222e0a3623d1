// GET /_matrix/federation/v1/media/download/{mediaId} and /thumbnail/{mediaId}
// (server-server § "Content Repository"): our own media for other servers, as a
// multipart/mixed body of `{}` metadata and the bytes.

import { defineEndpoint, HttpResponse, type Endpoint } from '../../http/define-endpoint.ts';
import type { MediaService, ServedMedia } from '../media-service.ts';
import { MEDIA_SECURITY_HEADERS } from '../content-disposition.ts';
import { multipartMediaBody, newBoundary } from '../multipart.ts';
import { downloadDisposition, integerParam, thumbnailDisposition, thumbnailRequest, withMediaHeaders } from './http-helpers.ts';
import { DEFAULT_WAIT_MS } from '../media-service.ts';

export function federationMediaEndpoints(media: MediaService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/federation/v1/media/download/:mediaId',
      auth: 'federation',
      operationId: 'server-server:getContent',
      async handler({ params, query, ctx }) {
        withMediaHeaders(ctx);
        const served = await media.localForFederation(params['mediaId'] ?? '', integerParam(query, 'timeout_ms', DEFAULT_WAIT_MS));
        return multipartResponse(served, downloadDisposition(served, undefined));
      },
    }),
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/federation/v1/media/thumbnail/:mediaId',
      auth: 'federation',
      operationId: 'server-server:getContentThumbnail',
      async handler({ params, query, ctx }) {
        withMediaHeaders(ctx);
        const request = thumbnailRequest(query);
        const served = await media.thumbnail(media.serverName, params['mediaId'] ?? '', request, {
          timeoutMs: integerParam(query, 'timeout_ms', DEFAULT_WAIT_MS),
          allowRemote: false,
          legacy: false,
        });
        return multipartResponse(served, thumbnailDisposition(served));
      },
    }),
  ];
}

async function multipartResponse(served: ServedMedia, disposition: string): Promise<HttpResponse> {
  const boundary = newBoundary();
  const body = multipartMediaBody(boundary, { contentType: served.contentType, contentDisposition: disposition }, await served.open());
  return new HttpResponse(200, body, `multipart/mixed; boundary=${boundary}`, { ...MEDIA_SECURITY_HEADERS });
}
