// The media repository as one unit for the composition root: the blob store (encrypted at
// rest when a key is configured), the service, and the endpoints for each listener.

import { readFile } from 'node:fs/promises';
import type { StoaConfig } from '../config/types.ts';
import type { Endpoint } from '../http/define-endpoint.ts';
import type { Logger } from '../logger.ts';
import { MediaRepository } from '../storage/media-repository.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { MediaKeyRing } from './blob-crypto.ts';
import { FileBlobStore } from './blob-store.ts';
import { mediaClientEndpoints, mediaFederationEndpoints } from './endpoints/index.ts';
import { previewEndpoints } from './endpoints/preview.ts';
import { allowListPolicy } from '../net/address-guard.ts';
import { systemDns, type Dns } from '../net/dns.ts';
import { PageFetcher } from './url-preview/page-fetcher.ts';
import { UrlPreviewService } from './url-preview/url-preview-service.ts';
import { MediaService } from './media-service.ts';
import type { RemoteMediaFetcher } from './remote-media.ts';
import { Thumbnailer } from './thumbnailer.ts';

export type { RemoteMediaFetcher, RemoteMediaRequest, RemoteMediaResponse } from './remote-media.ts';
export { MediaService } from './media-service.ts';

export interface MediaDeps {
  readonly config: StoaConfig;
  readonly db: StoaDatabase;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Unset when federation is off: remote media is then not found. */
  readonly remote?: RemoteMediaFetcher;
  /** For URL previews; default: the system resolver. */
  readonly dns?: Dns;
}

export interface Media {
  readonly service: MediaService;
  readonly blobs: FileBlobStore;
  readonly clientEndpoints: readonly Endpoint[];
  readonly federationEndpoints: readonly Endpoint[];
  close(): Promise<void>;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

export async function createMedia(deps: MediaDeps): Promise<Media> {
  const { config, logger } = deps;
  const log = logger.child({ component: 'media' });
  const keys = await loadKeys(config.media.encryption);
  const blobs = new FileBlobStore(config.media.store_path, keys);
  await blobs.init();
  const repository = new MediaRepository(deps.db);
  const service = new MediaService({
    serverName: config.server_name,
    config: config.media,
    repository,
    blobs,
    thumbnailer: new Thumbnailer(),
    ...(deps.remote === undefined ? {} : { remote: deps.remote }),
    logger: log,
    clock: deps.clock,
  });
  if (keys !== undefined) log.info({ key_id: keys.current.id }, 'media encryption at rest is on');
  const previewConfig = config.media.url_preview;
  const pageFetcher = previewConfig.enabled
    ? new PageFetcher({ dns: deps.dns ?? systemDns, privateAddresses: allowListPolicy(previewConfig.ip_range_allowlist), timeoutMs: previewConfig.timeout_ms })
    : undefined;
  const previews =
    pageFetcher === undefined
      ? []
      : previewEndpoints(new UrlPreviewService({ config: previewConfig, media: service, repository, fetcher: pageFetcher, logger: log, clock: deps.clock }));
  const purge = setInterval(() => {
    service.purgeExpiredPending().catch((err: unknown) => log.warn({ err }, 'could not purge expired media URIs'));
  }, PURGE_INTERVAL_MS);
  purge.unref();
  return {
    service,
    blobs,
    clientEndpoints: mediaClientEndpoints(service, previews),
    federationEndpoints: mediaFederationEndpoints(service),
    async close() {
      clearInterval(purge);
      await pageFetcher?.close();
    },
  };
}

async function loadKeys(encryption: StoaConfig['media']['encryption']): Promise<MediaKeyRing | undefined> {
  if (encryption === undefined) return undefined;
  if ('key' in encryption) return MediaKeyRing.parse(encryption.key);
  return MediaKeyRing.parse(await readFile(encryption.key_path, 'utf8'));
}
