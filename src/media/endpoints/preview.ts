// GET …/media/preview_url, on the authenticated v1 path and the deprecated v3 one (which
// also needs an access token). Registered only when URL previews are enabled: otherwise the
// route does not exist, as on Synapse.

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import type { UrlPreviewService } from '../url-preview/url-preview-service.ts';

export function previewEndpoints(previews: UrlPreviewService): Endpoint[] {
  return [
    ['/_matrix/client/v1/media/preview_url', 'getUrlPreviewAuthed'],
    ['/_matrix/media/v3/preview_url', 'getUrlPreview'],
  ].map(([path, operationId]) =>
    defineEndpoint({
      method: 'GET',
      path: path ?? '',
      auth: 'required',
      ...(operationId === undefined ? {} : { operationId }),
      // `ts` asks for a past version; we keep only the latest, which the spec allows.
      handler: ({ query }) => previews.preview(query.get('url') ?? undefined),
    }),
  );
}
