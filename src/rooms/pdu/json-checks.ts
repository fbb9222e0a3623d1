// Checks on a PDU handed over as an already-parsed object rather than text. Text goes through
// parseJsonStrict, which refuses the same things while parsing; an object (one PDU out of a
// parsed transaction, say) must be held to the same standard before it is hashed, because
// canonical JSON cannot encode a lone surrogate or nesting beyond its depth limit.

import { DEFAULT_MAX_DEPTH } from '../canonical-json.ts';
import type { JsonValue } from '../json.ts';

export type JsonShapeProblem =
  | { readonly kind: 'lone-surrogate'; readonly path: string }
  | { readonly kind: 'too-deep'; readonly path: string }
  | { readonly kind: 'non-canonical-number'; readonly path: string; readonly value: number }
  | { readonly kind: 'not-json'; readonly path: string };

/**
 * Walks `value` without recursion (a hostile value may be deep) and reports the first
 * problem: a string or key with a lone surrogate, nesting beyond the canonical JSON depth
 * limit, a non-JSON value, and with `strictNumbers` (rooms v6+) any number canonical JSON
 * forbids (fractions, `-0`, beyond ±(2^53 - 1)).
 */
export function findJsonShapeProblem(
  value: JsonValue,
  options: { readonly strictNumbers: boolean },
): JsonShapeProblem | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value, path: '', depth: 0 },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: current, path, depth } = item;
    switch (typeof current) {
      case 'string':
        if (!current.isWellFormed()) return { kind: 'lone-surrogate', path };
        break;
      case 'number':
        if (!Number.isFinite(current)) return { kind: 'not-json', path };
        // `-0` too, as parseJsonStrict refuses it: canonical JSON writes it as `0`.
        if (options.strictNumbers && (!Number.isSafeInteger(current) || Object.is(current, -0))) {
          return { kind: 'non-canonical-number', path, value: current };
        }
        break;
      case 'boolean':
        break;
      case 'object': {
        if (current === null) break;
        if (depth >= DEFAULT_MAX_DEPTH) return { kind: 'too-deep', path };
        if (Array.isArray(current)) {
          current.forEach((entry: unknown, index) =>
            stack.push({ value: entry, path: `${path}[${index}]`, depth: depth + 1 }),
          );
          break;
        }
        const proto: unknown = Object.getPrototypeOf(current);
        if (proto !== Object.prototype && proto !== null) return { kind: 'not-json', path };
        for (const [key, entry] of Object.entries(current)) {
          const childPath = path === '' ? key : `${path}.${key}`;
          if (!key.isWellFormed()) return { kind: 'lone-surrogate', path: childPath };
          stack.push({ value: entry, path: childPath, depth: depth + 1 });
        }
        break;
      }
      default:
        return { kind: 'not-json', path };
    }
  }
  return undefined;
}
