// A space's children: its `m.space.child` state events (client-server § "Spaces",
// "m.space.child relationship"), kept only when `via` names at least one server (an event
// without it removes the child), and ordered as § "Ordering of children within a space" says.

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';

export interface SpaceChild {
  readonly roomId: string;
  readonly via: readonly string[];
  readonly suggested: boolean;
  /** The `order` key when it is valid (≤ 50 printable ASCII characters). */
  readonly order: string | undefined;
  readonly originServerTs: number;
  /** The stripped state event with `origin_server_ts`, as `children_state` carries it. */
  readonly stripped: JsonObject;
}

/** A child from an m.space.child event's JSON; undefined for a removed or malformed one. */
export function spaceChildFromEvent(event: JsonObject): SpaceChild | undefined {
  if (getField(event, 'type') !== 'm.space.child') return undefined;
  const roomId = getField(event, 'state_key');
  const content = getField(event, 'content');
  const sender = getField(event, 'sender');
  const ts = getField(event, 'origin_server_ts');
  if (typeof roomId !== 'string' || !roomId.startsWith('!') || !isJsonObject(content)) return undefined;
  const via = viaOf(getField(content, 'via'));
  if (via.length === 0) return undefined;
  const order = getField(content, 'order');
  const originServerTs = typeof ts === 'number' && Number.isSafeInteger(ts) ? ts : 0;
  return {
    roomId,
    via,
    suggested: getField(content, 'suggested') === true,
    order: typeof order === 'string' && order.length <= 50 && /^[\x20-\x7E]*$/.test(order) ? order : undefined,
    originServerTs,
    stripped: {
      type: 'm.space.child',
      state_key: roomId,
      content,
      sender: typeof sender === 'string' ? sender : '',
      origin_server_ts: originServerTs,
    },
  };
}

/** Children from a remote `children_state` array (stripped events with origin_server_ts). */
export function spaceChildrenFromStripped(state: JsonValue | undefined): SpaceChild[] {
  if (!Array.isArray(state)) return [];
  const children: SpaceChild[] = [];
  for (const event of state) {
    const child = isJsonObject(event) ? spaceChildFromEvent(event) : undefined;
    if (child !== undefined) children.push(child);
  }
  return orderSpaceChildren(children);
}

/** Valid `order` keys first (by code point), then by timestamp, then by room ID. */
export function orderSpaceChildren(children: readonly SpaceChild[]): SpaceChild[] {
  return [...children].sort((a, b) => {
    if (a.order !== undefined && b.order === undefined) return -1;
    if (a.order === undefined && b.order !== undefined) return 1;
    if (a.order !== undefined && b.order !== undefined && a.order !== b.order) return a.order < b.order ? -1 : 1;
    if (a.originServerTs !== b.originServerTs) return a.originServerTs - b.originServerTs;
    return a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0;
  });
}

function viaOf(value: JsonValue | undefined): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((server): server is string => typeof server === 'string' && server !== '');
}
