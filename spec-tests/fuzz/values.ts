// Schema-driven JSON values: `validValue` follows a (ref-inlined) OpenAPI schema to build a
// plausible value, filling identifier fields with real IDs; `mutateValue` then breaks it
// in one of the ways a careless or hostile client would (wrong types, missing required
// fields, huge strings and arrays, prototype-pollution keys, out-of-range numbers).

import { identityFor, type FuzzIdentities } from './identities.ts';
import type { Rng } from './rng.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const EVENT_TYPES = ['m.room.message', 'm.room.topic', 'm.room.name', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.reaction', 'm.room.redaction', 'org.fuzz.custom'];

/** `allOf` members merged into one schema (properties and required lists united). */
function flatten(schema: unknown): Schema {
  if (!isRecord(schema)) return {};
  const parts = Array.isArray(schema['allOf']) ? schema['allOf'].map(flatten) : [];
  if (parts.length === 0) return schema;
  const merged: Schema = { ...schema };
  delete merged['allOf'];
  const properties: Record<string, unknown> = {};
  const required = new Set<string>();
  for (const part of [...parts, schema]) {
    if (isRecord(part['properties'])) Object.assign(properties, part['properties']);
    if (Array.isArray(part['required'])) for (const r of part['required']) if (typeof r === 'string') required.add(r);
    for (const key of ['type', 'additionalProperties', 'patternProperties', 'items', 'enum', 'format']) {
      if (part[key] !== undefined && merged[key] === undefined) merged[key] = part[key];
    }
  }
  merged['properties'] = properties;
  merged['required'] = [...required];
  return merged;
}

function typeOf(schema: Schema): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t) => t !== 'null') as string | undefined;
  if (isRecord(schema['properties'])) return 'object';
  if (schema['items'] !== undefined) return 'array';
  return undefined;
}

export interface ValueContext {
  readonly rng: Rng;
  readonly ids: FuzzIdentities;
}

/** A value that satisfies `schema` as far as the generator understands it. `name` is the field's name. */
export function validValue(schema: unknown, ctx: ValueContext, name = '', depth = 0): Json {
  const s = flatten(schema);
  const { rng, ids } = ctx;
  if ('const' in s) return s['const'] as Json;
  if (Array.isArray(s['enum']) && s['enum'].length > 0) return rng.pick(s['enum'] as Json[]);
  const alternatives = (Array.isArray(s['oneOf']) ? s['oneOf'] : Array.isArray(s['anyOf']) ? s['anyOf'] : undefined) as unknown[] | undefined;
  if (alternatives !== undefined && alternatives.length > 0 && typeOf(s) === undefined) {
    return validValue(rng.pick(alternatives), ctx, name, depth);
  }
  switch (typeOf(s)) {
    case 'object':
      return validObject(s, ctx, depth);
    case 'array': {
      if (depth > 5) return [];
      const count = rng.int(3);
      return Array.from({ length: count }, () => validValue(s['items'] ?? {}, ctx, name, depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = typeof s['minimum'] === 'number' ? s['minimum'] : 0;
      const max = typeof s['maximum'] === 'number' ? s['maximum'] : min + 100;
      return rng.between(min, Math.max(min, Math.min(max, min + 1000)));
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'string':
      return validString(s, ctx, name);
    case 'null':
      return null;
    default:
      // "Anything": event content and the like.
      if (depth > 3) return 'x';
      return rng.pick<Json>([{ body: 'fuzz', msgtype: 'm.text' }, 'text', 1, true, {}]);
  }
}

function validObject(s: Schema, ctx: ValueContext, depth: number): Json {
  const { rng } = ctx;
  const out: { [key: string]: Json } = {};
  if (depth > 6) return out;
  const required = new Set(Array.isArray(s['required']) ? (s['required'] as string[]) : []);
  const properties = isRecord(s['properties']) ? s['properties'] : {};
  for (const [key, child] of Object.entries(properties)) {
    if (required.has(key) || rng.chance(0.6)) out[key] = validValue(child, ctx, key, depth + 1);
  }
  const extra = isRecord(s['additionalProperties']) ? s['additionalProperties'] : isRecord(s['patternProperties']) ? Object.values(s['patternProperties'])[0] : undefined;
  if (extra !== undefined && Object.keys(properties).length === 0) {
    for (let i = rng.int(3); i > 0; i--) out[mapKey(ctx, i)] = validValue(extra, ctx, '', depth + 1);
  }
  return out;
}

/** Keys of maps keyed by identifiers (user ID → device ID → …): real IDs where they matter. */
function mapKey(ctx: ValueContext, i: number): string {
  return ctx.rng.pick([ctx.ids.userId, ctx.ids.roomId, ctx.ids.deviceId, ctx.ids.serverName, `key${i}`, 'ed25519:AAAA', 'signed_curve25519:AAAAAQ']);
}

function validString(s: Schema, ctx: ValueContext, name: string): string {
  const { rng, ids } = ctx;
  const known = identityFor(name, ids);
  if (known !== undefined) return known;
  switch (s['format']) {
    case 'mx-user-id':
      return rng.pick([ids.userId, ids.otherUserId, `@ghost:${ids.serverName}`, `@someone:${ids.remoteServerName}`]);
    case 'mx-room-id':
      return ids.roomId;
    case 'mx-event-id':
      return ids.eventId;
    case 'mx-room-alias':
      return ids.roomAlias;
    case 'mx-server-name':
      return rng.pick([ids.serverName, ids.remoteServerName]);
    case 'mx-mxc-uri':
    case 'uri':
      return `mxc://${ids.serverName}/fuzzmedia${rng.int(100)}`;
    default:
      break;
  }
  if (name === 'type' || name === 'event_type' || name === 'eventType') return rng.pick(EVENT_TYPES);
  if (name === 'state_key' || name === 'stateKey') return rng.pick(['', ids.userId]);
  if (name === 'membership') return rng.pick(['join', 'leave', 'invite', 'ban', 'knock']);
  if (name === 'room_version') return rng.pick(['10', '11', '12', '1']);
  return rng.pick(['fuzz', 'hello world', '', `x${rng.int(1_000_000)}`, 'ünïcødé 💥']);
}

// ---------------------------------------------------------------------------------------
// Mutations of a parsed value

/** Where inside a value a mutation lands: a path of keys and indexes. */
export type ValuePath = ReadonlyArray<string | number>;

/** Every path to a value inside `value`, the root included. */
export function pathsOf(value: Json, prefix: ValuePath = [], out: ValuePath[] = [], limit = 200): ValuePath[] {
  if (out.length >= limit) return out;
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...prefix, i], out, limit));
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) pathsOf(v as Json, [...prefix, k], out, limit);
  return out;
}

/** `value` with the node at `path` replaced (a copy along the path; the rest shared). */
export function setAt(value: Json, path: ValuePath, replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const child = setAt(copy[head as number] ?? null, rest, replacement);
    if (replacement === undefined && rest.length === 0) copy.splice(head as number, 1);
    else copy[head as number] = child;
    return copy;
  }
  if (isRecord(value)) {
    const copy: { [key: string]: Json } = { ...value };
    if (replacement === undefined && rest.length === 0) delete copy[head as string];
    else copy[head as string] = setAt(copy[head as string] ?? null, rest, replacement);
    return copy;
  }
  return value;
}

/** A value of some other JSON type than `value`'s. */
export function wrongTypeFor(value: Json, rng: Rng): Json {
  const candidates: Json[] = ['a string', 42, -1, 0, true, false, null, [], [1, 'two'], {}, { nested: { deep: true } }, 1.5, ''];
  const typeName = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const others = candidates.filter((c) => typeName(c) !== typeName(value));
  return rng.pick(others);
}

/** Odd but well-formed JSON values: each has broken something in some server. */
export function nastyValue(rng: Rng, ids: FuzzIdentities): Json {
  return rng.pick<Json>([
    'x'.repeat(rng.pick([256, 4096, 65_536])),
    -1,
    -9_007_199_254_740_991,
    9_007_199_254_740_991,
    1e20,
    0.5,
    -0.0,
    '\u0000',
    '\ud800',
    '\u202e',
    '${jndi:x}',
    '<script>',
    "'; drop table events; --",
    '../../etc/passwd',
    '%00',
    '@',
    '!',
    '$',
    '#',
    ':',
    `@${'a'.repeat(300)}:${ids.serverName}`,
    `!nonexistent:${ids.serverName}`,
    `$nonexistent:${ids.serverName}`,
    `#nonexistent:${ids.serverName}`,
    '@user:127.0.0.1:1',
    '!room:[::1',
    { __proto__: { polluted: true } } as unknown as Json,
    JSON.parse('{"__proto__": {"polluted": true}}') as Json,
    { constructor: { prototype: { polluted: true } } },
    { toString: 'x', valueOf: 1, hasOwnProperty: null },
    Array.from({ length: 1000 }, (_, i) => i),
    [[[[[[[[[[[]]]]]]]]]]],
  ]);
}
