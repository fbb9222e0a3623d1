// The port through which the media service fetches media of other servers. The
// implementation lives with the federation client (src/federation/media-fetcher.ts) and is
// wired in main.ts; media and federation do not import each other, so outcomes are plain
// data rather than error classes.

export interface RemoteMediaRequest {
  readonly serverName: string;
  readonly mediaId: string;
  /** How long the origin may wait for a pending upload (`timeout_ms`). */
  readonly timeoutMs: number;
  /** A declared length beyond this is refused before the body is read. */
  readonly maxBytes: number;
}

export type RemoteMediaResponse =
  | {
      readonly kind: 'media';
      /**
       * `multipart`: the federation endpoint's two-part body, which the media service parses
       * (its Content-Type carries the boundary); `raw`: the bytes themselves (the deprecated
       * endpoint, or a `Location` the multipart body pointed at).
       */
      readonly format: 'multipart' | 'raw';
      readonly contentType: string | undefined;
      readonly contentDisposition: string | undefined;
      /** The bytes; the caller stops reading (and the fetcher releases the connection) past its limit. */
      readonly body: AsyncIterable<Uint8Array>;
    }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-yet-uploaded' }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface RemoteMediaFetcher {
  /** GET /_matrix/federation/v1/media/download, falling back to the deprecated route. */
  download(request: RemoteMediaRequest): Promise<RemoteMediaResponse>;
  /** Follows a `Location` a multipart response gave instead of the bytes (never to private addresses). */
  fetchLocation(url: string, request: RemoteMediaRequest): Promise<RemoteMediaResponse>;
}
