// v2-state-res.md "Auth difference": ∪ Cᵢ − ∩ Cᵢ over the full auth chains of the
// state sets, computed as set operations over the chains the caller gives.

export function authDifference(authChains: readonly ReadonlySet<string>[]): Set<string> {
  const difference = new Set<string>();
  if (authChains.length < 2) return difference;
  for (let i = 0; i < authChains.length; i += 1) {
    const chain = authChains[i]!;
    for (const eventId of chain) {
      if (difference.has(eventId)) continue;
      // An event absent from any chain is outside the intersection.
      for (let j = 0; j < authChains.length; j += 1) {
        if (j !== i && !authChains[j]!.has(eventId)) {
          difference.add(eventId);
          break;
        }
      }
    }
  }
  return difference;
}
