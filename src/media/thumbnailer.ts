// Thumbnails (client-server § "Thumbnails") with sharp (libvips). The requested size picks
// one of the configured sizes, the smallest at least as large as asked for, so each image
// has a handful of thumbnails however many sizes clients ask for; those are cached by the
// media service. "scale" fits the image inside the box, "crop" fills the box and cuts the
// overflow; neither ever enlarges. Animated GIF/WebP give animated WebP when asked for
// (`animated=true`), a still of the first frame otherwise.

import type { default as Sharp, Metadata } from 'sharp';
import type { ThumbnailSize } from '../config/types.ts';

export type ThumbnailMethod = 'crop' | 'scale';

export interface ThumbnailRequest {
  readonly width: number;
  readonly height: number;
  readonly method: ThumbnailMethod;
  readonly animated: boolean;
}

export type ThumbnailResult =
  | { readonly kind: 'thumbnail'; readonly bytes: Buffer; readonly contentType: string; readonly width: number; readonly height: number }
  /** The image already fits the request and can be served as it is. */
  | { readonly kind: 'original' }
  | { readonly kind: 'not-an-image' }
  | { readonly kind: 'too-large' };

/** Formats we decode. Not SVG (a renderer with a large attack surface), not PDF. */
const THUMBNAILABLE_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'gif', 'webp', 'avif', 'heif', 'tiff']);
const ANIMATABLE_FORMATS: ReadonlySet<string> = new Set(['gif', 'webp']);
/** Originals we may serve as their own thumbnail: the spec's thumbnail content types. */
const SERVABLE_AS_THUMBNAIL: ReadonlySet<string> = new Set(['jpeg', 'png', 'gif', 'webp']);

/** The configured size a request is served from (see the file comment). */
export function chooseThumbnailSize(sizes: readonly ThumbnailSize[], request: Pick<ThumbnailRequest, 'width' | 'height' | 'method'>): ThumbnailSize {
  const sameMethod = sizes.filter((s) => s.method === request.method);
  const candidates = sameMethod.length > 0 ? sameMethod : sizes;
  const byArea = [...candidates].sort((a, b) => a.width * a.height - b.width * b.height);
  const fitting = byArea.find((s) => s.width >= request.width && s.height >= request.height);
  const chosen = fitting ?? byArea[byArea.length - 1];
  if (chosen === undefined) throw new Error('no thumbnail sizes configured');
  return chosen;
}

export interface ThumbnailerOptions {
  /** Images with more pixels than this (per frame) are refused as too large. */
  readonly maxPixels?: number;
}

export class Thumbnailer {
  readonly #maxPixels: number;

  constructor(options: ThumbnailerOptions = {}) {
    this.#maxPixels = options.maxPixels ?? 100_000_000;
  }

  /**
   * A thumbnail of `source` at `size` (a configured size), or why there is none. `requested`
   * is what the client asked for: an image within it is served as it is.
   */
  async generate(source: Buffer, size: ThumbnailSize, requested: ThumbnailRequest): Promise<ThumbnailResult> {
    const sharp = await loadSharp();
    let metadata: Metadata;
    try {
      metadata = await sharp(source, { limitInputPixels: false }).metadata();
    } catch {
      return { kind: 'not-an-image' };
    }
    const format = metadata.format as string | undefined;
    if (format === undefined || !THUMBNAILABLE_FORMATS.has(format) || metadata.width === undefined || metadata.height === undefined) {
      return { kind: 'not-an-image' };
    }
    const frames = metadata.pages ?? 1;
    const frameHeight = frames > 1 ? (metadata.pageHeight ?? metadata.height) : metadata.height;
    if (metadata.width * frameHeight > this.#maxPixels) return { kind: 'too-large' };
    const isAnimated = frames > 1 && ANIMATABLE_FORMATS.has(format);
    const animate = requested.animated && isAnimated;
    // EXIF orientations 5–8 swap width and height once applied.
    const swapped = !animate && (metadata.orientation ?? 1) >= 5;
    const width = swapped ? frameHeight : metadata.width;
    const height = swapped ? metadata.width : frameHeight;

    if (
      width <= requested.width &&
      height <= requested.height &&
      SERVABLE_AS_THUMBNAIL.has(format) &&
      (!isAnimated || animate) &&
      (metadata.orientation ?? 1) === 1
    ) {
      return { kind: 'original' };
    }

    const target = size.method === 'crop' ? cropTarget(width, height, size) : { width: size.width, height: size.height };
    let pipeline = sharp(source, { animated: animate, limitInputPixels: this.#maxPixels });
    if (!animate) pipeline = pipeline.rotate();
    pipeline = pipeline.resize({
      width: target.width,
      height: target.height,
      fit: size.method === 'crop' ? 'cover' : 'inside',
      withoutEnlargement: true,
    });
    let contentType: string;
    if (animate) {
      pipeline = pipeline.webp({ quality: 80, effort: 2 });
      contentType = 'image/webp';
    } else if (format === 'jpeg') {
      pipeline = pipeline.jpeg({ quality: 80, mozjpeg: true });
      contentType = 'image/jpeg';
    } else {
      pipeline = pipeline.png({ compressionLevel: 6 });
      contentType = 'image/png';
    }
    try {
      const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
      return { kind: 'thumbnail', bytes: data, contentType, width: info.width, height: info.pageHeight ?? info.height };
    } catch {
      return { kind: 'not-an-image' };
    }
  }
}

/**
 * The crop box: the configured size when the image is large enough, else the largest box of
 * the same aspect ratio inside the image (never enlarging).
 */
function cropTarget(width: number, height: number, size: ThumbnailSize): { width: number; height: number } {
  if (width >= size.width && height >= size.height) return { width: size.width, height: size.height };
  const aspect = size.width / size.height;
  const boxWidth = width / height > aspect ? Math.round(height * aspect) : width;
  const boxHeight = width / height > aspect ? height : Math.round(width / aspect);
  return { width: Math.max(1, Math.min(size.width, boxWidth)), height: Math.max(1, Math.min(size.height, boxHeight)) };
}

let sharpModule: Promise<typeof Sharp> | undefined;

/** libvips costs tens of MB resident: loaded with the first thumbnail, not at start-up. */
function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then(({ default: sharp }): typeof Sharp => {
    // Thumbnails are cached as blobs; libvips' operation cache would only hold memory.
    sharp.cache(false);
    return sharp;
  });
  return sharpModule;
}
