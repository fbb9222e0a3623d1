// From a provider's claims to a Matrix user: the config's templates (`{{ user.<claim> }}`,
// the subset of Synapse's Jinja templates that mappings use, with the `lower` and
// `localpart_from_email` filters), and the appendix's suggested mapping of any string onto
// the user-ID localpart alphabet (appendices § "Mapping from other character sets").

import type { JsonObject } from '../../rooms/json.ts';

const PLACEHOLDER = /\{\{\s*user\.([A-Za-z0-9_.:-]+)\s*((?:\|\s*[a-z_]+\s*)*)\}\}/g;

/** The template with each placeholder replaced; undefined when a claim it names is missing or not a scalar. */
export function renderTemplate(template: string, claims: JsonObject): string | undefined {
  let missing = false;
  const rendered = template.replace(PLACEHOLDER, (_match, claim: string, filters: string) => {
    const value = claims[claim];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      missing = true;
      return '';
    }
    let text = String(value);
    for (const filter of filters.split('|').map((f) => f.trim()).filter((f) => f !== '')) {
      if (filter === 'lower') text = text.toLowerCase();
      else if (filter === 'localpart_from_email') text = text.split('@')[0] ?? '';
    }
    return text;
  });
  return missing ? undefined : rendered.trim();
}

const ALLOWED = /[a-z0-9._\-/+]/;

/** Lower-cases A-Z and writes every other byte outside the localpart alphabet (and `=`) as `=xx`. */
export function mapToLocalpart(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte);
    out += byte < 0x80 && ALLOWED.test(char) ? char : `=${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
