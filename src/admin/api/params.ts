// Query and path parameters of the admin API, parsed as Synapse parses them: a bad value is
// 400 M_INVALID_PARAM (never a 500), a missing required one 400 M_MISSING_PARAM.

import { invalidParam, MatrixError } from '../../http/matrix-error.ts';
import { parseUserId } from '../../rooms/identifiers.ts';

/** A non-negative integer query parameter, `fallback` when absent. */
export function intParam(query: URLSearchParams, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw invalidParam(`Query parameter "${name}" must be a non-negative integer`);
  const value = Number(text);
  if (value > max) throw invalidParam(`Query parameter "${name}" must be at most ${max}`);
  return value;
}

/** `true`/`false` (Synapse also accepts 1/0), `fallback` when absent. */
export function boolParam<F extends boolean | undefined>(query: URLSearchParams, name: string, fallback: F): boolean | F {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw invalidParam(`Query parameter "${name}" must be true or false`);
}

/** `dir`: `f` (default unless given) or `b`. */
export function dirParam(query: URLSearchParams, fallback: 'f' | 'b' = 'f'): 'f' | 'b' {
  const text = query.get('dir');
  if (text === null || text === '') return fallback;
  if (text !== 'f' && text !== 'b') throw invalidParam('Query parameter "dir" must be "f" or "b"');
  return text;
}

/** One of `allowed`, `fallback` when absent. */
export function enumParam<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw invalidParam(`Unknown value for query parameter "${name}": ${text}`);
  return text as T;
}

/** A user ID path parameter naming a user of this server. */
export function localUserParam(userId: string | undefined, serverName: string): string {
  const parsed = userId === undefined ? undefined : parseUserId(userId, { historical: true });
  if (userId === undefined || parsed === undefined) throw invalidParam('Invalid user ID');
  if (parsed.serverName !== serverName) throw new MatrixError(400, 'M_INVALID_PARAM', 'This endpoint can only be used with local users');
  return userId;
}

export function roomIdParam(roomId: string | undefined): string {
  if (roomId === undefined || !roomId.startsWith('!')) throw invalidParam('Invalid room ID');
  return roomId;
}

/** Sorts by `key`, then by `tie` (both ascending), and reverses for `dir=b`. */
export function sortBy<T>(items: T[], key: (item: T) => string | number | boolean | null, tie: (item: T) => string, dir: 'f' | 'b'): T[] {
  items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const primary = compareValues(ka, kb);
    return primary !== 0 ? primary : tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0;
  });
  if (dir === 'b') items.reverse();
  return items;
}

function compareValues(a: string | number | boolean | null, b: string | number | boolean | null): number {
  // Unset values (no display name, never seen) sort before set ones.
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : 1;
  return Number(a) < Number(b) ? -1 : 1;
}

/** Synapse's page answer: `next_token` only when there is more. */
export function nextToken(from: number, returned: number, total: number): { next_token?: string } {
  return from + returned < total ? { next_token: String(from + returned) } : {};
}
