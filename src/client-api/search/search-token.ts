// The `next_batch` tokens of POST /search (client-server § "Server Side Search",
// "Pagination"): where the previous page ended in the requested order, and, for a token
// handed out inside a group (`groups.<key>.<value>.next_batch`), which group it continues.
// Opaque to clients: base64url of a small JSON object, checked field by field on the way in.
// Stream positions may be negative: backfilled history is indexed too, below position 0.

import { invalidParam } from '../../http/matrix-error.ts';
import type { SearchCursor } from '../../storage/search-repository.ts';

export type GroupKey = 'room_id' | 'sender';

export interface SearchToken {
  readonly orderBy: 'rank' | 'recent';
  readonly cursor: SearchCursor;
  readonly group?: { readonly key: GroupKey; readonly value: string };
}

interface Wire {
  o: 'rank' | 'recent';
  s: number;
  r?: number;
  g?: [GroupKey, string];
}

export function encodeSearchToken(token: SearchToken): string {
  const wire: Wire = { o: token.orderBy, s: token.cursor.streamOrdering };
  if (token.cursor.rank !== undefined) wire.r = token.cursor.rank;
  if (token.group !== undefined) wire.g = [token.group.key, token.group.value];
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

/** The token's meaning; M_INVALID_PARAM for anything this server did not hand out. */
export function decodeSearchToken(text: string): SearchToken {
  const invalid = () => invalidParam('Unknown next_batch token');
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(text)) throw invalid();
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw invalid();
  const { o, s, r, g } = wire as Record<string, unknown>;
  if ((o !== 'rank' && o !== 'recent') || typeof s !== 'number' || !Number.isSafeInteger(s)) throw invalid();
  if (r !== undefined && (typeof r !== 'number' || !Number.isFinite(r))) throw invalid();
  if (o === 'rank' && r === undefined) throw invalid();
  let group: SearchToken['group'];
  if (g !== undefined) {
    if (!Array.isArray(g) || g.length !== 2 || (g[0] !== 'room_id' && g[0] !== 'sender') || typeof g[1] !== 'string') throw invalid();
    group = { key: g[0], value: g[1] };
  }
  const cursor: SearchCursor = o === 'rank' ? { rank: r as number, streamOrdering: s } : { streamOrdering: s };
  return { orderBy: o, cursor, ...(group === undefined ? {} : { group }) };
}
