// Kahn's algorithm that, among the vertices ready at each step, takes the smallest under
// a comparison: the lexicographically smallest topological order. Used for the reverse
// topological power ordering (content/rooms/fragments/v2-state-res.md).

import { MinHeap } from './min-heap.ts';

/**
 * Orders `graph` (vertex → the vertices it points at, e.g. its auth events) so that every
 * vertex comes after the vertices it points at: the earliest event first. Edges to
 * vertices outside the graph are ignored. Vertices on a cycle, which a DAG of events
 * cannot have but a forged one can, are left out.
 */
export function lexicographicalTopologicalSort(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  less: (a: string, b: string) => boolean,
): string[] {
  const pending = new Map<string, number>();
  const pointedAtBy = new Map<string, string[]>();
  const ready = new MinHeap<string>(less);

  for (const [vertex, edges] of graph) {
    let count = 0;
    for (const target of edges) {
      if (target === vertex || !graph.has(target)) continue;
      count += 1;
      let sources = pointedAtBy.get(target);
      if (sources === undefined) {
        sources = [];
        pointedAtBy.set(target, sources);
      }
      sources.push(vertex);
    }
    pending.set(vertex, count);
    if (count === 0) ready.push(vertex);
  }

  const order: string[] = [];
  for (let vertex = ready.pop(); vertex !== undefined; vertex = ready.pop()) {
    order.push(vertex);
    for (const source of pointedAtBy.get(vertex) ?? []) {
      const left = (pending.get(source) ?? 0) - 1;
      pending.set(source, left);
      if (left === 0) ready.push(source);
    }
  }
  return order;
}
