// Step 3 of v2-state-res.md "Algorithm": order the remaining events by the mainline
// ordering based on the partially resolved power levels event.

import type { EventCache } from './event-cache.ts';
import type { Pacer } from './pacer.ts';
import { isPowerLevelsEvent } from './power-events.ts';
import { timestampOf } from './timestamp.ts';

/** Mainline position for an event whose chain never meets the mainline ("∞"). */
const OFF_MAINLINE = Number.POSITIVE_INFINITY;

export async function mainlineSort(
  eventIds: readonly string[],
  powerLevelsId: string | undefined,
  events: EventCache,
  pacer: Pacer,
): Promise<string[]> {
  if (eventIds.length === 0) return [];
  const powerLevelsParent = (eventId: string): string | undefined => {
    for (const authId of events.get(eventId)?.authEvents ?? []) {
      const authEvent = events.get(authId);
      if (authEvent !== undefined && isPowerLevelsEvent(authEvent)) return authId;
    }
    return undefined;
  };

  // The mainline of P: P₀ = P, Pᵢ₊₁ = the power levels event among Pᵢ's auth events.
  // Positions of power levels events are memoised, so each one is walked once however
  // many events cite it.
  const position = new Map<string, number>();
  for (
    let pl = powerLevelsId, i = 0;
    pl !== undefined && !position.has(pl) && events.get(pl) !== undefined;
    pl = powerLevelsParent(pl), i += 1
  ) {
    position.set(pl, i);
  }

  const positionOfPowerLevels = (start: string | undefined): number => {
    const chain: string[] = [];
    const onChain = new Set<string>();
    let found = OFF_MAINLINE;
    for (let pl = start; pl !== undefined; pl = powerLevelsParent(pl)) {
      const known = position.get(pl);
      if (known !== undefined) {
        found = known;
        break;
      }
      if (onChain.has(pl)) break; // a forged cycle never meets the mainline
      chain.push(pl);
      onChain.add(pl);
    }
    for (const pl of chain) position.set(pl, found);
    return found;
  };

  // eᵢ starts at e₁: the event itself is not looked up in the mainline.
  const keys = new Map<string, { position: number; ts: number }>();
  for (const eventId of eventIds) {
    keys.set(eventId, {
      position: positionOfPowerLevels(powerLevelsParent(eventId)),
      ts: timestampOf(events.get(eventId)),
    });
    const turn = pacer.step();
    if (turn) await turn;
  }

  return [...eventIds].sort((x, y) => {
    const kx = keys.get(x)!;
    const ky = keys.get(y)!;
    if (kx.position !== ky.position) return kx.position > ky.position ? -1 : 1;
    if (kx.ts !== ky.ts) return kx.ts < ky.ts ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
