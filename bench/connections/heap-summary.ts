// Sums a V8 heap snapshot's objects by constructor (self sizes), biggest first:
//   node bench/connections/heap-summary.ts FILE.heapsnapshot [top=40] [per=2000]
// With `per` (the number of parked long-polls), each line also shows count and bytes per
// connection, which makes the per-connection objects stand out. Snapshots are taken after a
// full GC, so unlike resident memory they count only what is still held.

import { readFileSync } from 'node:fs';

export interface HeapTotals {
  readonly bytes: number;
  readonly byKind: ReadonlyMap<string, { readonly count: number; readonly bytes: number }>;
}

export function heapTotals(file: string): HeapTotals {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byKind = new Map<string, { count: number; bytes: number }>();
  let bytes = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
    const key = type === 'object' || type === 'native' ? `${type}:${name}` : `(${type})`;
    const size = snapshot.nodes[i + sizeAt]!;
    bytes += size;
    const entry = byKind.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += size;
    byKind.set(key, entry);
  }
  return { bytes, byKind };
}

if (import.meta.main) {
  const [file, topArg, perArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: heap-summary.ts FILE [top] [per]');
  const top = Number(topArg ?? 40);
  const per = Number(perArg ?? 0);
  const totals = heapTotals(file);
  const rows = [...totals.byKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  process.stdout.write(`total ${(totals.bytes / 1048576).toFixed(1)} MB\n`);
  for (const [key, { count, bytes }] of rows) {
    const perConn = per > 0 ? `  ${(count / per).toFixed(2)}/conn ${Math.round(bytes / per)} B/conn` : '';
    process.stdout.write(`${String(bytes).padStart(11)} ${String(count).padStart(8)}  ${key}${perConn}\n`);
  }
}
