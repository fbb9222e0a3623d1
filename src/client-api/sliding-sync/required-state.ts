// `required_state` of simplified sliding sync (MSC4186): which state events a room entry
// carries, as [type, state_key] pairs. `*` is a wildcard in either position; for
// `m.room.member`, `$LAZY` asks for the members who sent timeline events (lazy-loading)
// and `$ME` means the requesting user. Normalised once per request so that matching a state
// key is a few map lookups, and so that two requests' configurations compare by value
// (a room whose required_state widened gets the state it newly asks for).

export interface RequiredState {
  /** ["*", "*"]: every state event. */
  readonly all: boolean;
  /** [type, "*"] (true) or [type, key] (the keys), by type. */
  readonly byType: ReadonlyMap<string, true | ReadonlySet<string>>;
  /** ["*", key]: those keys of every type. */
  readonly anyTypeKeys: ReadonlySet<string>;
  /** ["m.room.member", "$LAZY"]. */
  readonly lazyMembers: boolean;
}

export const NO_REQUIRED_STATE: RequiredState = { all: false, byType: new Map(), anyTypeKeys: new Set(), lazyMembers: false };

const MEMBER = 'm.room.member';

export function parseRequiredState(pairs: ReadonlyArray<readonly [string, string]>, userId: string): RequiredState {
  let all = false;
  let lazyMembers = false;
  const byType = new Map<string, true | Set<string>>();
  const anyTypeKeys = new Set<string>();
  for (const [type, rawKey] of pairs) {
    const key = type === MEMBER && rawKey === '$ME' ? userId : rawKey;
    if (type === MEMBER && key === '$LAZY') {
      lazyMembers = true;
    } else if (type === '*' && key === '*') {
      all = true;
    } else if (type === '*') {
      anyTypeKeys.add(key);
    } else if (key === '*') {
      byType.set(type, true);
    } else {
      const existing = byType.get(type);
      if (existing === true) continue;
      if (existing === undefined) byType.set(type, new Set([key]));
      else existing.add(key);
    }
  }
  return { all, byType, anyTypeKeys, lazyMembers };
}

/** Whether `[type, stateKey]` is asked for explicitly (lazy members aside). */
export function wantsState(config: RequiredState, type: string, stateKey: string): boolean {
  if (config.all || config.anyTypeKeys.has(stateKey)) return true;
  const keys = config.byType.get(type);
  if (keys === undefined) return false;
  return keys === true || keys.has(stateKey);
}

/** The union of two configurations: a room in several lists gets what any of them asks for. */
export function mergeRequiredState(a: RequiredState, b: RequiredState): RequiredState {
  const byType = new Map<string, true | Set<string>>();
  for (const source of [a.byType, b.byType]) {
    for (const [type, keys] of source) {
      const existing = byType.get(type);
      if (existing === true || keys === true) byType.set(type, true);
      else byType.set(type, new Set([...(existing ?? []), ...keys]));
    }
  }
  return {
    all: a.all || b.all,
    byType,
    anyTypeKeys: new Set([...a.anyTypeKeys, ...b.anyTypeKeys]),
    lazyMembers: a.lazyMembers || b.lazyMembers,
  };
}

export function sameRequiredState(a: RequiredState, b: RequiredState): boolean {
  if (a.all !== b.all || a.lazyMembers !== b.lazyMembers) return false;
  if (!sameSet(a.anyTypeKeys, b.anyTypeKeys) || a.byType.size !== b.byType.size) return false;
  for (const [type, keys] of a.byType) {
    const other = b.byType.get(type);
    if (other === undefined) return false;
    if (keys === true || other === true) {
      if (keys !== other) return false;
    } else if (!sameSet(keys, other)) return false;
  }
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
