// Response headers for served media (client-server § "Content repository" and § "Serving
// inline content"): a strict Content-Security-Policy, nosniff, cross-origin resource policy,
// and a Content-Disposition that is `inline` only for the types the spec lists as safe and
// carries the uploader's filename without letting it break out of the header.

/** § "Serving inline content": types unlikely to be rendered as something executable. */
const INLINE_SAFE_TYPES: ReadonlySet<string> = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

/** The policy the spec recommends for served content. */
export const MEDIA_CSP = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';";

/** Headers every media response carries, errors included. */
export const MEDIA_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': MEDIA_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The media type without parameters, lower-cased (`Text/Plain; charset=x` → `text/plain`). */
export function essenceOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function isInlineSafe(contentType: string): boolean {
  return INLINE_SAFE_TYPES.has(essenceOf(contentType));
}

/**
 * A Content-Type a client sent, if it is one we can repeat in a header: a `type/subtype`
 * token pair with optional parameters, printable ASCII, no line breaks.
 */
export function sanitizeContentType(value: string | undefined): string {
  if (value === undefined) return DEFAULT_CONTENT_TYPE;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > 255) return DEFAULT_CONTENT_TYPE;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=("[^"\\\x00-\x1f\x7f]*"|[!#$%&'*+.^_`|~0-9A-Za-z-]+))*$/.test(trimmed)) {
    return DEFAULT_CONTENT_TYPE;
  }
  return trimmed;
}

/**
 * Whether `name` is acceptable as an upload's filename: a base name, not a path. We never
 * use it on disk (blobs are content-addressed), but clients save downloads under it.
 */
export function isAcceptableFilename(name: string): boolean {
  if (name === '' || name === '.' || name === '..' || name.length > 255) return false;
  // Path separators, and control characters that could split a header or a terminal line.
  return !/[/\\\u0000-\u001f\u007f]/.test(name);
}

/**
 * `inline` or `attachment`, with the filename as RFC 6266 asks: an ASCII fallback in
 * `filename="…"` (quotes and backslashes escaped, anything else non-printable replaced) and,
 * when the name is not plain ASCII, the exact name in `filename*=utf-8''…`.
 */
export function contentDisposition(contentType: string, filename: string | undefined, forceInline = false): string {
  const disposition = forceInline || isInlineSafe(contentType) ? 'inline' : 'attachment';
  if (filename === undefined || filename === '') return disposition;
  const cleaned = filename.replace(/[\u0000-\u001f\u007f]/g, '');
  const ascii = cleaned.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"]/g, (c) => `\\${c}`);
  if (/^[\x20-\x7e]*$/.test(cleaned)) return `${disposition}; filename="${ascii}"`;
  return `${disposition}; filename="${ascii}"; filename*=utf-8''${encodeRfc5987(cleaned)}`;
}

function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The filename a remote server gave in its Content-Disposition, if any. */
export function filenameFromDisposition(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const extended = /filename\*\s*=\s*(?:utf-8|UTF-8)''([^;]+)/.exec(header);
  if (extended?.[1] !== undefined) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // fall through to the plain parameter
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(header);
  if (quoted?.[1] !== undefined) return quoted[1].replace(/\\(.)/g, '$1');
  const bare = /filename\s*=\s*([^;\s]+)/.exec(header);
  return bare?.[1];
}
