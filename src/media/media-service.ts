// The media repository's behaviour (client-server § "Content repository", server-server
// § "Content Repository"): uploads streamed into the blob store under size limits and
// quotas, URIs created ahead of their upload, downloads of local and remote media (remote
// ones fetched once and cached), thumbnails generated once per configured size, the
// legacy-route freeze, and the admin operations (quarantine, delete).

import type { Readable } from 'node:stream';
import type { MediaConfig } from '../config/types.ts';
import { MatrixError, forbidden, invalidParam, limitExceeded, notFound, tooLarge } from '../http/matrix-error.ts';
import type { Logger } from '../logger.ts';
import type { MediaRecord, MediaRepository, ThumbnailRecord } from '../storage/media-repository.ts';
import { BlobLengthMismatchError, BlobTooLargeError, type BlobStore, type ByteRange } from './blob-store.ts';
import { DEFAULT_CONTENT_TYPE, filenameFromDisposition, isAcceptableFilename, sanitizeContentType } from './content-disposition.ts';
import { generateMediaId, isValidMediaId, isValidMediaServerName, mxcUri } from './media-id.ts';
import { boundaryOf, parseMultipartMedia, type ParsedMultipartMedia } from './multipart.ts';
import type { RemoteMediaFetcher, RemoteMediaRequest, RemoteMediaResponse } from './remote-media.ts';
import { chooseThumbnailSize, type Thumbnailer, type ThumbnailRequest } from './thumbnailer.ts';

/** § POST /media/v1/create: "The recommended default expiration is 24 hours". */
export const PENDING_UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Created-but-not-uploaded URIs one user may hold at once. */
export const MAX_PENDING_UPLOADS = 20;
/** The spec's default `timeout_ms`, and the most we wait whatever the client asks. */
export const DEFAULT_WAIT_MS = 20_000;
export const MAX_WAIT_MS = 60_000;

export interface MediaServiceDeps {
  readonly serverName: string;
  readonly config: MediaConfig;
  readonly repository: MediaRepository;
  readonly blobs: BlobStore;
  readonly thumbnailer: Thumbnailer;
  /** Unset (federation off): remote media is not found. */
  readonly remote?: RemoteMediaFetcher;
  readonly logger: Logger;
  readonly clock: () => number;
}

export interface UploadInput {
  readonly userId: string;
  readonly contentType: string | undefined;
  readonly filename: string | undefined;
  /** The Content-Length header as sent, if any. */
  readonly declaredLength: string | undefined;
  readonly body: AsyncIterable<Uint8Array>;
}

/** Where a download or thumbnail is served from. */
export interface ServedMedia {
  readonly contentType: string;
  readonly filename: string | undefined;
  readonly size: number;
  readonly sha256: string;
  open(range?: ByteRange): Promise<Readable>;
}

export interface FetchOptions {
  readonly timeoutMs: number;
  /** false: do not fetch remote media that is not cached (`allow_remote=false`). */
  readonly allowRemote: boolean;
  /** Served on a deprecated unauthenticated route: only media stored before the freeze. */
  readonly legacy: boolean;
}

export class MediaService {
  readonly #deps: MediaServiceDeps;
  readonly #repository: MediaRepository;
  readonly #remoteFetches = new Map<string, Promise<MediaRecord>>();
  readonly #thumbnailJobs = new Map<string, Promise<ThumbnailRecord>>();
  /** Waiters for created URIs, woken when their upload lands in this process. */
  readonly #uploadWaiters = new Map<string, Set<() => void>>();

  constructor(deps: MediaServiceDeps) {
    this.#deps = deps;
    this.#repository = deps.repository;
  }

  get serverName(): string {
    return this.#deps.serverName;
  }

  get maxUploadBytes(): number {
    return this.#deps.config.max_upload_bytes;
  }

  /** POST /_matrix/media/v3/upload. */
  async upload(input: UploadInput): Promise<string> {
    const filename = this.#checkUploadHeaders(input);
    return this.#recordNew(await this.#storeUpload(input), { userId: input.userId, contentType: input.contentType, filename });
  }

  /**
   * Stores content the server fetched itself (a URL preview's image): owned by no user, so
   * it counts against no one's quota. Returns the mxc:// URI.
   */
  async storeServerOwned(input: { contentType: string; bytes: Uint8Array }): Promise<string> {
    const stored = await this.#deps.blobs.put([input.bytes], { maxBytes: this.maxUploadBytes, expectedBytes: input.bytes.length });
    return this.#recordNew(stored, { userId: undefined, contentType: input.contentType, filename: undefined });
  }

  /** A row under a new media ID for a stored blob; the blob is released if the row fails. */
  async #recordNew(
    stored: { sha256: string; size: number },
    owner: { userId: string | undefined; contentType: string | undefined; filename: string | undefined },
  ): Promise<string> {
    const mediaId = generateMediaId();
    try {
      await this.#repository.insertUpload({
        serverName: this.serverName,
        mediaId,
        userId: owner.userId,
        contentType: sanitizeContentType(owner.contentType),
        filename: owner.filename,
        size: stored.size,
        sha256: stored.sha256,
        now: this.#deps.clock(),
      });
    } catch (error) {
      await this.#releaseBlob(stored.sha256);
      throw error;
    }
    return mxcUri(this.serverName, mediaId);
  }

  /** POST /_matrix/media/v1/create. */
  async create(userId: string): Promise<{ contentUri: string; unusedExpiresAt: number }> {
    const now = this.#deps.clock();
    if ((await this.#repository.countPending(userId, now)) >= MAX_PENDING_UPLOADS) {
      throw limitExceeded(60_000, 'Too many pending uploads: upload to the URIs already created first');
    }
    const mediaId = generateMediaId();
    const expiresAt = now + PENDING_UPLOAD_LIFETIME_MS;
    await this.#repository.createPending(this.serverName, mediaId, userId, now, expiresAt);
    return { contentUri: mxcUri(this.serverName, mediaId), unusedExpiresAt: expiresAt };
  }

  /** PUT /_matrix/media/v3/upload/{serverName}/{mediaId}. */
  async uploadTo(serverName: string, mediaId: string, input: UploadInput): Promise<void> {
    checkMxc(serverName, mediaId);
    if (serverName !== this.serverName) throw notFound('Unknown media ID');
    const filename = this.#checkUploadHeaders(input);
    // Checked before the body is read, so a refused PUT costs no upload; checked again
    // (atomically) when the row is filled.
    throwPendingProblem(await this.#repository.checkPending(serverName, mediaId, input.userId, this.#deps.clock()));
    const stored = await this.#storeUpload(input);
    const outcome = await this.#repository.completePending({
      serverName,
      mediaId,
      userId: input.userId,
      contentType: sanitizeContentType(input.contentType),
      filename,
      size: stored.size,
      sha256: stored.sha256,
      now: this.#deps.clock(),
    });
    if (outcome !== 'stored') {
      await this.#releaseBlob(stored.sha256);
      throwPendingProblem(outcome);
    }
    this.#wakeWaiters(serverName, mediaId);
  }

  /** The media behind an mxc:// URI for a client download. */
  async download(serverName: string, mediaId: string, options: FetchOptions): Promise<ServedMedia> {
    checkMxc(serverName, mediaId);
    const record = await this.#resolve(serverName, mediaId, options);
    return this.#served(record);
  }

  /** Our own media for a federation request (no freeze: servers authenticate). */
  async localForFederation(mediaId: string, timeoutMs: number): Promise<ServedMedia> {
    checkMxc(this.serverName, mediaId);
    return this.#served(await this.#resolve(this.serverName, mediaId, { timeoutMs, allowRemote: false, legacy: false }));
  }

  /** A thumbnail (client-server § "Thumbnails"), generated on first request and cached. */
  async thumbnail(serverName: string, mediaId: string, request: ThumbnailRequest, options: FetchOptions): Promise<ServedMedia> {
    checkMxc(serverName, mediaId);
    const record = await this.#resolve(serverName, mediaId, options);
    const thumbnail = await this.#thumbnailOf(record, request);
    const blobs = this.#deps.blobs;
    return {
      contentType: thumbnail.contentType,
      filename: undefined,
      size: thumbnail.size,
      sha256: thumbnail.sha256,
      open: (range) => blobs.open(thumbnail.sha256, range),
    };
  }

  /** Quarantines an item: it is no longer served, locally or to other servers. */
  async quarantine(serverName: string, mediaId: string, by: string): Promise<boolean> {
    return this.#repository.setQuarantined(serverName, mediaId, by, this.#deps.clock());
  }

  async releaseFromQuarantine(serverName: string, mediaId: string): Promise<boolean> {
    return this.#repository.setQuarantined(serverName, mediaId, undefined, this.#deps.clock());
  }

  /** Deletes an item, its thumbnails, and every blob no other item uses. */
  async delete(serverName: string, mediaId: string): Promise<boolean> {
    const blobs = await this.#repository.delete(serverName, mediaId);
    if (blobs === undefined) return false;
    for (const sha256 of blobs) await this.#releaseBlob(sha256);
    return true;
  }

  /** Bytes `userId` has uploaded (what the quota counts). */
  usedBytes(userId: string): Promise<number> {
    return this.#repository.usedBytes(userId);
  }

  /** Drops created URIs that were never uploaded to. */
  purgeExpiredPending(): Promise<number> {
    return this.#repository.deleteExpiredPending(this.#deps.clock());
  }

  // ---------------------------------------------------------------------------------------

  #checkUploadHeaders(input: UploadInput): string | undefined {
    if (input.filename !== undefined && input.filename !== '' && !isAcceptableFilename(input.filename)) {
      throw invalidParam('filename must be a file name: no path separators or control characters');
    }
    const declared = input.declaredLength;
    if (declared !== undefined && (!/^\d+$/.test(declared) || !Number.isSafeInteger(Number(declared)))) {
      throw invalidParam('Content-Length is not a number');
    }
    if (declared !== undefined && Number(declared) > this.maxUploadBytes) {
      throw tooLarge(`Cannot upload files larger than ${this.maxUploadBytes} bytes`);
    }
    return input.filename === '' ? undefined : input.filename;
  }

  async #storeUpload(input: UploadInput): Promise<{ sha256: string; size: number }> {
    const quota = this.#deps.config.quota_bytes_per_user;
    const declared = input.declaredLength === undefined ? undefined : Number(input.declaredLength);
    let used = 0;
    if (quota > 0) {
      used = await this.#repository.usedBytes(input.userId);
      if (used + (declared ?? 0) > quota) throw quotaExceeded(quota);
    }
    let stored: { sha256: string; size: number };
    try {
      stored = await this.#deps.blobs.put(input.body, {
        maxBytes: quota > 0 ? Math.min(this.maxUploadBytes, quota - used) : this.maxUploadBytes,
        ...(declared === undefined ? {} : { expectedBytes: declared }),
      });
    } catch (error) {
      if (error instanceof BlobTooLargeError) {
        if (quota > 0 && error.limit < this.maxUploadBytes) throw quotaExceeded(quota);
        throw tooLarge(`Cannot upload files larger than ${this.maxUploadBytes} bytes`);
      }
      if (error instanceof BlobLengthMismatchError) throw invalidParam(error.message);
      throw error;
    }
    return stored;
  }

  /** Deletes a blob no row names any more. */
  async #releaseBlob(sha256: string): Promise<void> {
    if ((await this.#repository.blobReferences(sha256)) === 0) await this.#deps.blobs.delete(sha256);
  }

  /** The stored row for a URI: waits for a pending upload, fetches remote media once. */
  async #resolve(serverName: string, mediaId: string, options: FetchOptions): Promise<MediaRecord> {
    let record = await this.#repository.get(serverName, mediaId);
    if (record === undefined && serverName !== this.serverName) {
      // Fetching now would store it after the freeze: the legacy route would refuse it anyway.
      if (!options.allowRemote || (options.legacy && this.#frozen(this.#deps.clock()))) throw notFound('Media not found');
      record = await this.#fetchRemote(serverName, mediaId, options.timeoutMs);
    }
    if (record === undefined || record.quarantinedTs !== undefined) throw notFound('Media not found');
    if (record.sha256 === undefined) record = await this.#waitForUpload(record, options.timeoutMs);
    if (options.legacy && this.#frozen(record.storedTs ?? record.createdTs)) {
      throw notFound('Media not found: this media is only available through the authenticated /_matrix/client/v1/media endpoints');
    }
    return record;
  }

  #frozen(storedTs: number): boolean {
    return storedTs >= this.#deps.config.legacy_unauthenticated_until;
  }

  async #waitForUpload(record: MediaRecord, timeoutMs: number): Promise<MediaRecord> {
    const deadline = this.#deps.clock() + Math.min(Math.max(0, timeoutMs), MAX_WAIT_MS);
    let current = record;
    while (current.sha256 === undefined) {
      const now = this.#deps.clock();
      if ((current.pendingExpiresTs ?? 0) <= now) throw notFound('Media not found');
      if (now >= deadline) throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
      // Woken by an upload in this process; polled for uploads that land in another one.
      await this.#waitForWake(current.serverName, current.mediaId, Math.min(1000, deadline - now));
      const next = await this.#repository.get(current.serverName, current.mediaId);
      if (next === undefined || next.quarantinedTs !== undefined) throw notFound('Media not found');
      current = next;
    }
    return current;
  }

  #waitForWake(serverName: string, mediaId: string, ms: number): Promise<void> {
    const key = `${serverName}/${mediaId}`;
    return new Promise((resolve) => {
      const waiters = this.#uploadWaiters.get(key) ?? new Set<() => void>();
      this.#uploadWaiters.set(key, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#uploadWaiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  #wakeWaiters(serverName: string, mediaId: string): void {
    for (const wake of [...(this.#uploadWaiters.get(`${serverName}/${mediaId}`) ?? [])]) wake();
  }

  /** One fetch per remote item at a time; concurrent requests share it. */
  #fetchRemote(serverName: string, mediaId: string, timeoutMs: number): Promise<MediaRecord> {
    const key = `${serverName}/${mediaId}`;
    let job = this.#remoteFetches.get(key);
    if (job === undefined) {
      job = this.#doFetchRemote(serverName, mediaId, timeoutMs).finally(() => this.#remoteFetches.delete(key));
      this.#remoteFetches.set(key, job);
    }
    return job;
  }

  async #doFetchRemote(serverName: string, mediaId: string, timeoutMs: number): Promise<MediaRecord> {
    const remote = this.#deps.remote;
    if (remote === undefined) throw notFound('Media not found');
    const maxBytes = this.maxUploadBytes;
    const request = { serverName, mediaId, timeoutMs: Math.min(timeoutMs, MAX_WAIT_MS), maxBytes };
    const media = await this.#openRemoteBytes(remote, await remote.download(request), request);
    let stored: { sha256: string; size: number };
    try {
      stored = await this.#deps.blobs.put(media.body, { maxBytes });
    } catch (error) {
      if (error instanceof BlobTooLargeError) throw remoteTooLarge();
      this.#deps.logger.info({ server: serverName, media_id: mediaId, err: error }, 'remote media transfer failed');
      throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch media from ${serverName}`);
    }
    const filename = filenameFromDisposition(media.contentDisposition);
    await this.#repository.upsertRemote({
      serverName,
      mediaId,
      userId: undefined,
      contentType: sanitizeContentType(media.contentType),
      filename: filename !== undefined && isAcceptableFilename(filename) ? filename : undefined,
      size: stored.size,
      sha256: stored.sha256,
      now: this.#deps.clock(),
    });
    const record = await this.#repository.get(serverName, mediaId);
    if (record === undefined) throw new Error('cached remote media row vanished');
    return record;
  }

  /** The media bytes and their headers, out of a raw or multipart response (following a `Location`). */
  async #openRemoteBytes(
    remote: RemoteMediaFetcher,
    response: RemoteMediaResponse,
    request: RemoteMediaRequest,
  ): Promise<{ contentType: string | undefined; contentDisposition: string | undefined; body: AsyncIterable<Uint8Array> }> {
    const { serverName } = request;
    switch (response.kind) {
      case 'not-found':
        throw notFound('Media not found');
      case 'not-yet-uploaded':
        throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
      case 'too-large':
        throw remoteTooLarge();
      case 'unavailable':
        this.#deps.logger.info({ server: serverName, media_id: request.mediaId, reason: response.reason }, 'remote media fetch failed');
        throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch media from ${serverName}`);
      case 'media':
        break;
    }
    if (response.format === 'raw') return response;
    const boundary = boundaryOf(response.contentType);
    if (boundary === undefined) throw this.#badRemote(serverName, 'multipart response without a boundary', response.body);
    let parsed: ParsedMultipartMedia;
    try {
      parsed = await parseMultipartMedia(response.body, boundary);
    } catch (error) {
      throw this.#badRemote(serverName, (error as Error).message, response.body);
    }
    if (parsed.media.kind === 'location') {
      const followed = await remote.fetchLocation(parsed.media.location, request);
      if (followed.kind === 'media' && followed.format === 'multipart') {
        throw this.#badRemote(serverName, 'a Location led to another multipart response', followed.body);
      }
      return this.#openRemoteBytes(remote, followed, request);
    }
    return {
      contentType: parsed.media.headers.get('content-type'),
      contentDisposition: parsed.media.headers.get('content-disposition'),
      body: parsed.media.body,
    };
  }

  #badRemote(serverName: string, reason: string, body: AsyncIterable<Uint8Array>): MatrixError {
    // Stop the transfer: returning the iterator releases the connection.
    void body[Symbol.asyncIterator]().return?.();
    this.#deps.logger.info({ server: serverName, reason }, 'unusable remote media response');
    return new MatrixError(502, 'M_UNKNOWN', `Could not fetch media from ${serverName}`);
  }

  #served(record: MediaRecord): ServedMedia {
    const sha256 = record.sha256;
    if (sha256 === undefined || record.size === undefined) throw new Error('served media has no content');
    const blobs = this.#deps.blobs;
    return {
      contentType: record.contentType ?? DEFAULT_CONTENT_TYPE,
      filename: record.filename,
      size: record.size,
      sha256,
      open: (range) => blobs.open(sha256, range),
    };
  }

  #thumbnailOf(record: MediaRecord, request: ThumbnailRequest): Promise<ThumbnailRecord> {
    const size = chooseThumbnailSize(this.#deps.config.thumbnail_sizes, request);
    const key = { serverName: record.serverName, mediaId: record.mediaId, width: size.width, height: size.height, method: size.method, animated: request.animated };
    const jobKey = JSON.stringify(key);
    let job = this.#thumbnailJobs.get(jobKey);
    if (job === undefined) {
      job = (async () => {
        const cached = await this.#repository.thumbnail(key);
        if (cached !== undefined) return cached;
        const local = record.serverName === this.serverName;
        const sha256 = record.sha256;
        if (sha256 === undefined || record.size === undefined) throw new Error('thumbnail of media without content');
        if (record.size > this.#deps.config.max_thumbnail_source_bytes) throw local ? tooLarge('Content is too large to thumbnail') : remoteTooLarge();
        const source = await this.#deps.blobs.read(sha256, this.#deps.config.max_thumbnail_source_bytes);
        // Cached under the configured size, so the "serve the original" shortcut compares
        // against it too: every request mapped to this size gets the same answer.
        const result = await this.#deps.thumbnailer.generate(source, size, { ...request, width: size.width, height: size.height });
        let thumbnail: { sha256: string; size: number; contentType: string };
        switch (result.kind) {
          case 'not-an-image':
            throw new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');
          case 'too-large':
            throw local ? tooLarge('Content is too large to thumbnail') : remoteTooLarge();
          case 'original':
            thumbnail = { sha256, size: record.size, contentType: record.contentType ?? DEFAULT_CONTENT_TYPE };
            break;
          case 'thumbnail': {
            const stored = await this.#deps.blobs.put([result.bytes], { maxBytes: result.bytes.length });
            thumbnail = { ...stored, contentType: result.contentType };
            break;
          }
        }
        const row: ThumbnailRecord = { ...key, ...thumbnail, createdTs: this.#deps.clock() };
        await this.#repository.insertThumbnail(row);
        return (await this.#repository.thumbnail(key)) ?? row;
      })().finally(() => this.#thumbnailJobs.delete(jobKey));
      this.#thumbnailJobs.set(jobKey, job);
    }
    return job;
  }
}

function checkMxc(serverName: string, mediaId: string): void {
  if (!isValidMediaServerName(serverName)) throw invalidParam('Invalid server name in the media URI');
  if (!isValidMediaId(mediaId)) throw invalidParam('Invalid media ID: only A-Z, a-z, 0-9, _ and - are allowed');
}

function throwPendingProblem(problem: 'not-found' | 'not-owner' | 'already-uploaded' | 'expired' | undefined): void {
  switch (problem) {
    case undefined:
      return;
    case 'not-found':
    case 'expired':
      throw notFound('Unknown media ID, or its upload window has expired');
    case 'not-owner':
      throw forbidden('This media ID was created by another user');
    case 'already-uploaded':
      throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
  }
}

function quotaExceeded(quota: number): MatrixError {
  return forbidden(`Upload quota of ${quota} bytes exceeded`);
}

/** § "Security considerations": remote media too large to proxy is 502 M_TOO_LARGE. */
function remoteTooLarge(): MatrixError {
  return new MatrixError(502, 'M_TOO_LARGE', 'Remote content is too large');
}
