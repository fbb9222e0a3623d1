// The media endpoints per listener: uploads, downloads, thumbnails and config on the client
// listener; the federation media routes (and the deprecated download routes, which servers
// that predate v1.11 still fall back to) on the federation listener.

import type { Endpoint } from '../../http/define-endpoint.ts';
import type { MediaService } from '../media-service.ts';
import { configEndpoints, downloadEndpoints } from './download.ts';
import { federationMediaEndpoints } from './federation.ts';
import { uploadEndpoints } from './upload.ts';

export function mediaClientEndpoints(media: MediaService, extra: readonly Endpoint[] = []): Endpoint[] {
  return [...uploadEndpoints(media), ...downloadEndpoints(media), ...configEndpoints(media), ...extra];
}

export function mediaFederationEndpoints(media: MediaService): Endpoint[] {
  const legacy = downloadEndpoints(media).filter((e) => e.path.startsWith('/_matrix/media/v3/'));
  return [...federationMediaEndpoints(media), ...legacy];
}
