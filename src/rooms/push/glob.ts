// Glob-style matching (appendices § "Glob-style matching": `*` is zero or more characters,
// `?` exactly one), case-insensitive, as push rules use it: against a whole value, or, for
// `content.body` and content rules, against any substring that starts and ends at a word
// boundary (§ "Conditions" › `event_match`: the start or end of the value, or any character
// not in `[A-Z]`, `[a-z]`, `[0-9]` or `_`).

const NON_WORD = '[^A-Za-z0-9_]';
/** Compiled patterns, bounded: patterns come from users' rules and are reused per event. */
const CACHE_LIMIT = 2000;
const cache = new Map<string, RegExp>();

function globToRegexSource(glob: string): string {
  let out = '';
  for (const char of glob) {
    if (char === '*') out += '.*';
    else if (char === '?') out += '.';
    else out += char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return out;
}

function compiled(glob: string, wordBoundary: boolean): RegExp {
  const key = `${wordBoundary ? 'w' : 'v'}:${glob}`;
  let regex = cache.get(key);
  if (regex === undefined) {
    const body = globToRegexSource(glob);
    // `s`: `*` and `?` match newlines too; `u`: `?` matches one code point, not half of one.
    regex = wordBoundary
      ? new RegExp(`(?:^|${NON_WORD})${body}(?:${NON_WORD}|$)`, 'isu')
      : new RegExp(`^${body}$`, 'isu');
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, regex);
  }
  return regex;
}

/** Whether `glob` matches the whole of `value`. */
export function globMatchesValue(glob: string, value: string): boolean {
  return compiled(glob, false).test(value);
}

/** Whether `glob` matches a substring of `value` bounded by word boundaries. */
export function globMatchesWords(glob: string, value: string): boolean {
  return compiled(glob, true).test(value);
}
