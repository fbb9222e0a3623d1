// PostgreSQL int8 (bigint) values as JS numbers. Both drivers hand int8 over as text by
// default because it can exceed 2^53; Stoa's int8 columns are millisecond timestamps, depths
// and stream positions, far below that. A value that would lose precision is an error rather
// than a silently different number.

/** The PostgreSQL type OIDs for int8 and int8[]. */
export const INT8_OID = 20;
export const INT8_ARRAY_OID = 1016;

export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`int8 value ${text} is outside the range a JS number holds exactly`);
  }
  return value;
}

/** Parses a one-dimensional int8[] in PostgreSQL's text form, e.g. `{1,NULL,-3}`. */
export function parseInt8Array(text: string): Array<number | null> {
  if (!text.startsWith('{') || !text.endsWith('}')) {
    throw new RangeError(`not an int8[] literal: ${text}`);
  }
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  if (inner.includes('{')) {
    throw new RangeError('multi-dimensional int8[] values are not supported');
  }
  return inner.split(',').map((item) => (item === 'NULL' ? null : parseInt8(item)));
}
