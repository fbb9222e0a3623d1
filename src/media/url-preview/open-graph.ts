// OpenGraph data from an HTML page (https://ogp.me/), for URL previews. Pages are untrusted
// and often broken, so this is a tolerant scan of <meta> and <title> tags rather than a DOM:
// it never throws, ignores what it cannot read, and bounds what it returns.

/** The preview fields taken from a page; `og:image` is still the page's (absolute) URL. */
export type OpenGraph = Record<string, string | number>;

const MAX_VALUE_LENGTH = 1000;
const MAX_FIELDS = 50;
/** Only this much of a page is scanned: <head> is at the top, and regexes are linear anyway. */
const MAX_SCANNED_CHARS = 512 * 1024;

// Quoted attribute values may hold '>' (content="a > b"); the alternatives are disjoint, so
// matching stays linear.
const TAG = /<(meta|title|img)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const ATTRIBUTE = /([^\s=/"'<>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const NUMERIC = new Set(['og:image:width', 'og:image:height', 'og:video:width', 'og:video:height']);

export function parseOpenGraph(html: string, pageUrl: URL): OpenGraph {
  const text = html.slice(0, MAX_SCANNED_CHARS);
  const og: OpenGraph = {};
  let title: string | undefined;
  let description: string | undefined;
  let firstImage: string | undefined;
  let fields = 0;

  for (const match of text.matchAll(TAG)) {
    const tag = (match[1] ?? '').toLowerCase();
    const attributes = parseAttributes(match[2] ?? '');
    if (tag === 'title') {
      if (title === undefined) {
        const end = text.toLowerCase().indexOf('</title>', (match.index ?? 0) + match[0].length);
        if (end !== -1) title = clean(text.slice((match.index ?? 0) + match[0].length, end));
      }
      continue;
    }
    if (tag === 'img') {
      firstImage ??= attributes.get('src');
      continue;
    }
    const key = (attributes.get('property') ?? attributes.get('name') ?? '').toLowerCase();
    const content = attributes.get('content');
    if (content === undefined || key === '') continue;
    if (key === 'description') description ??= clean(content);
    if (!key.startsWith('og:') || Object.hasOwn(og, key) || fields >= MAX_FIELDS) continue;
    const value = clean(content);
    if (value === '') continue;
    if (NUMERIC.has(key)) {
      const number = Number(value);
      if (Number.isSafeInteger(number) && number > 0) og[key] = number;
    } else {
      og[key] = value;
    }
    fields++;
  }

  if (og['og:title'] === undefined && title !== undefined && title !== '') og['og:title'] = title;
  if (og['og:description'] === undefined && description !== undefined && description !== '') og['og:description'] = description;
  const image = absoluteHttpUrl(String(og['og:image'] ?? og['og:image:url'] ?? og['og:image:secure_url'] ?? firstImage ?? ''), pageUrl);
  delete og['og:image:url'];
  delete og['og:image:secure_url'];
  if (image === undefined) delete og['og:image'];
  else og['og:image'] = image;
  return og;
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = (match[1] ?? '').toLowerCase();
    const value = match[2] ?? match[3] ?? match[4];
    if (value !== undefined && !attributes.has(name)) attributes.set(name, decodeEntities(value));
  }
  return attributes;
}

function absoluteHttpUrl(value: string, base: URL): string | undefined {
  if (value === '') return undefined;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Collapses whitespace, drops control characters and bounds the length. */
function clean(value: string): string {
  const collapsed = decodeEntities(value)
    .replace(/<[^>]*>/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return collapsed.length > MAX_VALUE_LENGTH ? `${collapsed.slice(0, MAX_VALUE_LENGTH - 1)}…` : collapsed;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  rsquo: '\u2019',
  lsquo: '\u2018',
  rdquo: '\u201d',
  ldquo: '\u201c',
};

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const code = entity[1] === 'x' || entity[1] === 'X' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** The charset a page declares in its Content-Type or a <meta> tag; utf-8 when none or unknown. */
export function decodeHtml(bytes: Uint8Array, contentType: string | undefined): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 2048));
  const fromMeta = /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1];
  for (const label of [fromHeader, fromMeta, 'utf-8']) {
    if (label === undefined) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // An unknown label: try the next source.
    }
  }
  return new TextDecoder().decode(bytes);
}
