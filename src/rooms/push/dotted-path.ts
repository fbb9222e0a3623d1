// Dot-separated property paths (appendices § "Dot-separated property paths"): `content.body`
// is `body` inside `content`; a literal dot or backslash inside a name is escaped with a
// backslash (`content.m\.relates_to`, `content.m\\foo`); any other backslash is literal
// (`\x` is a backslash followed by `x`).

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';

/** The property names of a dotted path, escapes resolved. */
export function parseDottedPath(path: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === '\\') {
      const next = path[i + 1];
      if (next === '.' || next === '\\') {
        current += next;
        i++;
      } else {
        current += char;
      }
    } else if (char === '.') {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** The value at `path` in `event`, or undefined when any step is absent or not an object. */
export function valueAtPath(event: JsonObject, path: string): JsonValue | undefined {
  let value: JsonValue | undefined = event;
  for (const name of parseDottedPath(path)) {
    if (!isJsonObject(value)) return undefined;
    value = getField(value, name);
    if (value === undefined) return undefined;
  }
  return value;
}
