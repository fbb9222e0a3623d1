// GET /_matrix/client/v1/media/preview_url (client-server § "Content repository"): OpenGraph
// data for a URL, with the page's image copied into the media store so clients load it from
// their homeserver rather than from the page's site. Results are cached (the same link is
// posted to many members at once), and concurrent requests for one URL share one fetch.

import type { MediaConfig } from '../../config/types.ts';
import { forbidden, invalidParam, MatrixError, missingParam } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { MediaRepository } from '../../storage/media-repository.ts';
import type { MediaService } from '../media-service.ts';
import { decodeHtml, parseOpenGraph, type OpenGraph } from './open-graph.ts';
import { PreviewFetchError, type FetchedResource, type PageFetcher } from './page-fetcher.ts';

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const MAX_URL_LENGTH = 2048;

export interface UrlPreviewDeps {
  readonly config: MediaConfig['url_preview'];
  readonly media: MediaService;
  readonly repository: MediaRepository;
  readonly fetcher: PageFetcher;
  readonly logger: Logger;
  readonly clock: () => number;
}

export class UrlPreviewService {
  readonly #deps: UrlPreviewDeps;
  readonly #inFlight = new Map<string, Promise<OpenGraph>>();

  constructor(deps: UrlPreviewDeps) {
    this.#deps = deps;
  }

  async preview(rawUrl: string | undefined): Promise<OpenGraph> {
    const url = parsePreviewUrl(rawUrl);
    const key = url.href;
    const now = this.#deps.clock();
    const cached = await this.#deps.repository.preview(key, now);
    if (cached !== undefined) return JSON.parse(cached) as OpenGraph;
    let job = this.#inFlight.get(key);
    if (job === undefined) {
      job = this.#build(url).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, job);
    }
    return job;
  }

  async #build(url: URL): Promise<OpenGraph> {
    let page: FetchedResource;
    try {
      page = await this.#deps.fetcher.fetch(url, { maxBytes: this.#deps.config.max_bytes, truncate: true });
    } catch (error) {
      throw this.#asMatrixError(error, url);
    }
    const type = mediaType(page.contentType);
    let og: OpenGraph = {};
    if (type.startsWith('image/')) {
      if (!page.truncated) og = await this.#imageFields(page.bytes, type, {});
    } else if (HTML_TYPES.has(type)) {
      og = parseOpenGraph(decodeHtml(page.bytes, page.contentType), page.url);
      const imageUrl = og['og:image'];
      delete og['og:image'];
      if (typeof imageUrl === 'string') og = await this.#withImage(og, imageUrl);
    }
    const now = this.#deps.clock();
    await this.#deps.repository.savePreview(url.href, JSON.stringify(og), now, now + this.#deps.config.cache_ms);
    return og;
  }

  /** The page's image, copied into the media store; the preview stays useful without it. */
  async #withImage(og: OpenGraph, imageUrl: string): Promise<OpenGraph> {
    try {
      const image = await this.#deps.fetcher.fetch(new URL(imageUrl), {
        maxBytes: Math.min(this.#deps.config.max_bytes, this.#deps.media.maxUploadBytes),
        truncate: false,
      });
      const type = mediaType(image.contentType);
      if (!type.startsWith('image/')) return og;
      return await this.#imageFields(image.bytes, type, og);
    } catch (error) {
      this.#deps.logger.debug({ err: error, image: redactQuery(imageUrl) }, 'URL preview: image not fetched');
      return og;
    }
  }

  async #imageFields(bytes: Uint8Array, type: string, og: OpenGraph): Promise<OpenGraph> {
    const mxc = await this.#deps.media.storeServerOwned({ contentType: type, bytes });
    return { ...og, 'og:image': mxc, 'og:image:type': type, 'matrix:image:size': bytes.length };
  }

  #asMatrixError(error: unknown, url: URL): unknown {
    if (!(error instanceof PreviewFetchError)) return error;
    // Logged without the query string: it may carry someone's token.
    this.#deps.logger.info({ host: url.host, reason: error.message }, 'URL preview failed');
    if (error.forbidden) return forbidden('This URL may not be previewed: it leads to a non-public address');
    return new MatrixError(502, 'M_UNKNOWN', `Could not preview the URL: ${error.message}`);
  }
}

function parsePreviewUrl(raw: string | undefined): URL {
  if (raw === undefined || raw === '') throw missingParam('The url parameter is required');
  if (raw.length > MAX_URL_LENGTH) throw invalidParam('url is too long');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidParam('url is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidParam('only http and https URLs can be previewed');
  url.hash = '';
  return url;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function redactQuery(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : `${url.slice(0, at)}?…`;
}
