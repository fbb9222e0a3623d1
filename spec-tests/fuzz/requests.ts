// One fuzz request for one endpoint: a plausible request built from the spec's schemas and
// the run's real identifiers, then broken in exactly one way (or none), so a failure points
// at a single cause. Everything is drawn from the request's own Rng: a request can be
// rebuilt from its seed alone.

import type { FuzzEndpoint, Listener } from './catalogue.ts';
import type { PduFactory } from './pdus.ts';
import { identityFor, type FuzzIdentities } from './identities.ts';
import type { Rng } from './rng.ts';
import { nastyValue, pathsOf, setAt, validValue, wrongTypeFor, type ValuePath } from './values.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface FuzzRequest {
  /** `client-server:sendMessage`, or `corpus:<name>` for a fixed regression case. */
  readonly operation: string;
  readonly listener: Listener;
  readonly method: string;
  /** Path and query exactly as sent; may hold raw bytes 0x80–0xFF as latin-1 characters. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Uint8Array | undefined;
  /** What was broken, for the report. */
  readonly mutation: string;
}

/** What building a request needs from the run: real IDs, and X-Matrix signing as the fake remote. */
export interface RequestWorld {
  readonly ids: FuzzIdentities;
  /** A valid X-Matrix Authorization header from the fake remote (content: the parsed JSON body). */
  signAsRemote(method: string, uri: string, content: unknown): string;
  /** A well-formed X-Matrix header with a signature by a key the remote never published. */
  signWithUnknownKey(method: string, uri: string, content: unknown): string;
  /** Signed PDUs from the fake remote for the fuzz room, when the room could be read. */
  readonly pdus?: PduFactory | undefined;
}

/** Endpoints whose body is (or carries) PDUs: filled with signed events rather than schema noise. */
function pduBodyFor(endpoint: FuzzEndpoint, rng: Rng, world: RequestWorld): { value: Json; eventId?: string } | undefined {
  const pdus = world.pdus;
  if (pdus === undefined || rng.chance(0.2)) return undefined;
  switch (endpoint.id) {
    case 'server-server:sendTransaction':
      return {
        value: {
          origin: world.ids.remoteServerName,
          origin_server_ts: Date.now(),
          pdus: pdus.batch(rng) as Json[],
          edus: rng.chance(0.5) ? [{ edu_type: 'm.typing', content: { room_id: world.ids.roomId, user_id: `@fuzz0:${world.ids.remoteServerName}`, typing: true } }] : [],
        },
      };
    case 'server-server:sendJoinV2':
    case 'server-server:sendLeaveV2':
    case 'server-server:sendKnock': {
      const built = pdus.build(rng);
      return { value: built.pdu as Json, eventId: built.eventId };
    }
    case 'server-server:sendInviteV2': {
      const built = pdus.build(rng);
      return { value: { event: built.pdu as Json, room_version: '12', invite_room_state: [] }, eventId: built.eventId };
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Raw material

/** Path segments, inserted verbatim (already percent-encoded where they are meant to be). */
const NASTY_SEGMENTS: readonly string[] = [
  '',
  '%00',
  '%FF',
  '%C0%AF',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%',
  '%zz',
  '%E2%82',
  '..',
  '%2e%2e',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2F',
  '%5C',
  'x'.repeat(4000),
  '%21',
  '!',
  '@',
  '%40%3A',
  '!%3A',
  '%24',
  '%23',
  '%23%3A',
  '%20',
  '%E2%80%AE',
  '%F0%9F%92%A9',
  '\u00ff\u00fe',
  '\u00c0\u00af',
  '-1',
  '1e308',
  'null',
  '%7B%7D',
  '%5B%5D',
  '%40' + 'a'.repeat(500) + '%3Alocalhost',
  '!room%3A127.0.0.1%3A1',
  '%40user%3A127.0.0.1%3A1',
  '%24event%3A127.0.0.1%3A1',
  '%23alias%3A127.0.0.1%3A1',
  '!x%3A%5B%3A%3A1',
  '%40%00%3Ax',
  '9999999999999999999999',
  '__proto__',
  'constructor',
];

const NASTY_QUERY_VALUES: readonly string[] = [
  '',
  'abc',
  '-1',
  '0',
  '1.5',
  '1e3',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '-99999999999999999999',
  '9007199254740993',
  '%FF',
  '%C0%AF',
  '%00',
  '%',
  'x'.repeat(4000),
  's1_2_3',
  's-1',
  't99999999999999999999',
  'm1~2',
  '!%3A',
  '%40%3A',
  '%7B',
  '%7B%22a%22%3A1%2C%22a%22%3A2%7D',
  '%5B%5B%5B%5B%5B%5B%5B%5B',
  encodeURIComponent('{"room":{"timeline":{"limit":-5}}}'),
  encodeURIComponent('{"room":{"rooms":"notalist","state":{"types":[1,2]}}}'),
  encodeURIComponent('{"limit":1e308,"types":[null]}'),
  encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 99999999999 } }, event_fields: ['content.body', '', '.'] })),
  encodeURIComponent('['.repeat(5000) + ']'.repeat(5000)),
  'true',
  'yes',
  'b',
  'f',
];

const SENTINEL = '\u0001FUZZ-SENTINEL\u0001';
const SENTINEL_JSON = JSON.stringify(SENTINEL);

/** Fragments spliced into JSON text in place of one value. Latin-1 strings are written as bytes. */
const RAW_FRAGMENTS: ReadonlyArray<{ name: string; text: () => string }> = [
  { name: 'float 1.0', text: () => '1.0' },
  { name: 'negative zero', text: () => '-0' },
  { name: 'exponent overflow', text: () => '1e400' },
  { name: 'exponent', text: () => '1E2' },
  { name: 'beyond 2^53', text: () => '9007199254740993' },
  { name: 'huge integer', text: () => '123456789012345678901234567890123456789' },
  { name: 'NaN text', text: () => 'NaN' },
  { name: 'Infinity text', text: () => '-Infinity' },
  { name: 'hex number', text: () => '0x10' },
  { name: 'leading zero', text: () => '01' },
  { name: 'duplicate keys', text: () => '{"a":1,"a":2}' },
  { name: 'lone surrogate escape', text: () => '"\\ud800"' },
  { name: 'reversed surrogates', text: () => '"\\udc00\\ud800"' },
  { name: 'NUL escape', text: () => '"\\u0000"' },
  { name: 'raw control character', text: () => '"a\u0001b"' },
  { name: 'invalid UTF-8 bytes', text: () => '"\u00ff\u00fe"' },
  { name: 'overlong UTF-8', text: () => '"\u00c0\u00af"' },
  { name: 'UTF-8 surrogate', text: () => '"\u00ed\u00a0\u0080"' },
  { name: 'truncated UTF-8', text: () => '"\u00e2\u0082"' },
  { name: 'deep array nesting 10k', text: () => '['.repeat(10_000) + ']'.repeat(10_000) },
  { name: 'deep object nesting 10k', text: () => '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) },
  { name: 'nesting 101', text: () => '['.repeat(101) + ']'.repeat(101) },
  { name: 'bad escape', text: () => '"\\x41"' },
  { name: 'single quotes', text: () => "'a'" },
  { name: 'undefined', text: () => 'undefined' },
  { name: 'trailing comma', text: () => '[1,]' },
];

const RAW_BODIES: ReadonlyArray<{ name: string; text: string }> = [
  { name: 'empty', text: '' },
  { name: 'whitespace', text: ' \n' },
  { name: 'null', text: 'null' },
  { name: 'array', text: '[]' },
  { name: 'string', text: '"str"' },
  { name: 'number', text: '42' },
  { name: 'unterminated', text: '{' },
  { name: 'truncated', text: '{"a":' },
  { name: 'trailing garbage', text: '{}garbage' },
  { name: 'two objects', text: '{}{}' },
  { name: 'BOM', text: '\u00ef\u00bb\u00bf{}' },
  { name: 'invalid UTF-8', text: '{"a":"\u00ff"}' },
  { name: 'single quotes', text: "{'a':1}" },
  { name: 'NUL byte', text: '\u0000' },
  { name: 'proto pollution', text: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}' },
];

// ---------------------------------------------------------------------------------------

type Mode = 'valid' | 'path' | 'query' | 'wrong-type' | 'missing-field' | 'nasty-value' | 'huge-string' | 'huge-array' | 'raw-fragment' | 'raw-body' | 'headers' | 'federation-auth';

const MODES: ReadonlyArray<readonly [Mode, number]> = [
  ['valid', 3],
  ['path', 3],
  ['query', 2],
  ['wrong-type', 3],
  ['missing-field', 2],
  ['nasty-value', 3],
  ['huge-string', 1],
  ['huge-array', 1],
  ['raw-fragment', 3],
  ['raw-body', 2],
  ['headers', 2],
  ['federation-auth', 2],
];

function pickMode(rng: Rng, endpoint: FuzzEndpoint): Mode {
  const usable = MODES.filter(([mode]) => {
    if (mode === 'federation-auth') return endpoint.xMatrix;
    if (mode === 'path') return endpoint.parameters.some((p) => p.in === 'path');
    return true;
  });
  const total = usable.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = rng.int(total);
  for (const [mode, weight] of usable) {
    if (roll < weight) return mode;
    roll -= weight;
  }
  return 'valid';
}

/** A plausible value for a path parameter, percent-encoded. */
function pathValue(name: string, schema: unknown, rng: Rng, ids: FuzzIdentities): string {
  const known = identityFor(name, ids);
  if (known !== undefined) {
    if (name === 'roomIdOrAlias') return encodeURIComponent(rng.pick([ids.roomId, ids.roomAlias]));
    return encodeURIComponent(known);
  }
  const enumValues = (schema as { enum?: unknown[] } | undefined)?.enum;
  if (Array.isArray(enumValues) && enumValues.length > 0) return encodeURIComponent(String(rng.pick(enumValues)));
  switch (name) {
    case 'eventType':
    case 'type':
      return encodeURIComponent(rng.pick(['m.room.message', 'm.room.topic', 'm.room.name', 'm.room.power_levels', 'm.room.member', 'm.fully_read', 'm.tag', 'org.fuzz.x']));
    case 'stateKey':
      return rng.pick(['', encodeURIComponent(ids.userId)]);
    case 'txnId':
      return `fuzz${rng.next()}`;
    case 'receiptType':
      return rng.pick(['m.read', 'm.read.private', 'm.fully_read']);
    case 'relType':
      return rng.pick(['m.annotation', 'm.thread', 'm.reference']);
    case 'keyName':
      return rng.pick(['displayname', 'avatar_url', 'm.tz', 'org.fuzz.field']);
    case 'tag':
      return rng.pick(['m.favourite', 'u.fuzz']);
    case 'version':
      return rng.pick(['1', '2', '0']);
    case 'filterId':
      return rng.pick(['0', '1', 'abc']);
    case 'queryType':
      return rng.pick(['profile', 'directory', 'unknown']);
    default:
      return encodeURIComponent(String(validValue(schema, { rng, ids }, name)));
  }
}

function queryValue(name: string, schema: unknown, rng: Rng, ids: FuzzIdentities): string {
  const known = identityFor(name, ids);
  if (known !== undefined) return encodeURIComponent(known);
  switch (name) {
    case 'from':
    case 'to':
    case 'since':
    case 'next_batch':
      return rng.pick(['', 's0', 't1', '0', 'abc']);
    case 'filter':
      return encodeURIComponent(JSON.stringify({ room: { timeline: { limit: rng.int(20) } } }));
    case 'dir':
      return rng.pick(['b', 'f']);
    default: {
      const value = validValue(schema, { rng, ids }, name);
      return encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
}

function pathWithParams(endpoint: FuzzEndpoint, values: ReadonlyMap<string, string>): string {
  return endpoint.path.replace(/\{([^}]+)\}/g, (_, name: string) => values.get(name) ?? 'x');
}

function jsonBytes(text: string): Uint8Array {
  // Latin-1 characters in raw fragments stand for single bytes; everything else is UTF-8.
  if (/^[\u0000-\u00ff]*$/.test(text) && /[\u0080-\u00ff]/.test(text)) return Buffer.from(text, 'latin1');
  return Buffer.from(text, 'utf8');
}

/** Splices `fragment` (latin-1 = bytes) into the UTF-8 JSON text in place of the sentinel. */
function spliceRaw(json: string, fragment: string): Uint8Array {
  const at = json.indexOf(SENTINEL_JSON);
  if (at === -1) return Buffer.from(json, 'utf8');
  const before = Buffer.from(json.slice(0, at), 'utf8');
  const after = Buffer.from(json.slice(at + SENTINEL_JSON.length), 'utf8');
  const middle = /[\u0080-\u00ff]/.test(fragment) && /^[\u0000-\u00ff]*$/.test(fragment) ? Buffer.from(fragment, 'latin1') : Buffer.from(fragment, 'utf8');
  return Buffer.concat([before, middle, after]);
}

/** A random non-root path inside `value`, or the root when it has no children. */
function somePath(value: Json, rng: Rng): ValuePath {
  const paths = pathsOf(value);
  const inner = paths.filter((p) => p.length > 0);
  return inner.length === 0 ? [] : rng.pick(inner);
}

/** Where to put a broken value: an existing field, or a new top-level key. */
function targetPath(value: Json, rng: Rng): ValuePath {
  if (rng.chance(0.2) || typeof value !== 'object' || value === null) return typeof value === 'object' && value !== null && !Array.isArray(value) ? ['fuzz_extra'] : [];
  return somePath(value, rng);
}

function parseIfJson(bytes: Uint8Array | undefined): unknown {
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** Builds one request for `endpoint`, broken in one way chosen by `rng`. */
export function buildRequest(endpoint: FuzzEndpoint, rng: Rng, world: RequestWorld): FuzzRequest {
  const ids = world.ids;
  const mode = pickMode(rng, endpoint);
  let mutation: string = mode;

  const pduBody = pduBodyFor(endpoint, rng, world);

  // Path.
  const pathValues = new Map<string, string>();
  const pathParams = endpoint.parameters.filter((p) => p.in === 'path');
  for (const param of pathParams) pathValues.set(param.name, pathValue(param.name, param.schema, rng, ids));
  if (pduBody?.eventId !== undefined) pathValues.set('eventId', encodeURIComponent(pduBody.eventId));
  if (mode === 'path') {
    const victim = rng.pick(pathParams);
    const segment = rng.chance(0.2) ? `${pathValues.get(victim.name) ?? ''}${rng.pick(NASTY_SEGMENTS)}` : rng.pick(NASTY_SEGMENTS);
    pathValues.set(victim.name, segment);
    mutation = `path ${victim.name}=${describe(segment)}`;
  }
  // Paths in endpoints.json are templates such as /pushrules/ with a trailing slash: kept.
  let target = pathWithParams(endpoint, pathValues);

  // Query.
  const query: string[] = [];
  for (const param of endpoint.parameters.filter((p) => p.in === 'query')) {
    if (param.required || rng.chance(0.5)) query.push(`${encodeURIComponent(param.name)}=${queryValue(param.name, param.schema, rng, ids)}`);
  }
  if (mode === 'query') {
    const queryParams = endpoint.parameters.filter((p) => p.in === 'query');
    const name = queryParams.length > 0 && rng.chance(0.8) ? rng.pick(queryParams).name : rng.pick(['access_token', 'user_id', 'limit', 'from', 'filter', 'fuzz']);
    const value = rng.pick(NASTY_QUERY_VALUES);
    const index = query.findIndex((q) => q.startsWith(`${encodeURIComponent(name)}=`));
    const entry = `${encodeURIComponent(name)}=${value}`;
    if (index >= 0 && rng.chance(0.7)) query[index] = entry;
    else query.push(entry); // a repeated parameter, or a new one
    mutation = `query ${name}=${describe(value)}`;
  }
  if (query.length > 0) target += `?${query.join('&')}`;

  // Body.
  let body: Uint8Array | undefined;
  const jsonish = endpoint.bodyContentType === undefined || endpoint.bodyContentType.includes('json');
  const hasBody = endpoint.bodySchema !== undefined || (endpoint.bodyContentType !== undefined && endpoint.method !== 'GET');
  let value: Json | undefined = pduBody !== undefined ? pduBody.value : endpoint.bodySchema !== undefined ? validValue(endpoint.bodySchema, { rng, ids }) : hasBody && jsonish ? {} : undefined;
  if (!jsonish && hasBody) {
    body = Buffer.from(rng.pick(['', 'plain bytes', '\u0089PNG\r\n\u001a\n' + 'x'.repeat(100), 'GIF89a' + '\u0000'.repeat(50)]), 'latin1');
  }
  const bodyModes: readonly Mode[] = ['wrong-type', 'missing-field', 'nasty-value', 'huge-string', 'huge-array', 'raw-fragment', 'raw-body'];
  if (bodyModes.includes(mode) && value === undefined && jsonish) value = {}; // a body where none is expected
  if (value !== undefined && jsonish) {
    switch (mode) {
      case 'wrong-type': {
        const path = somePath(value, rng);
        value = setAt(value, path, wrongTypeFor(getAt(value, path), rng));
        mutation = `wrong type at ${pathText(path)}`;
        break;
      }
      case 'missing-field': {
        const path = somePath(value, rng);
        value = path.length === 0 ? {} : setAt(value, path, undefined);
        mutation = `missing ${pathText(path)}`;
        break;
      }
      case 'nasty-value': {
        const path = targetPath(value, rng);
        value = setAt(value, path, nastyValue(rng, ids));
        mutation = `nasty value at ${pathText(path)}`;
        break;
      }
      case 'huge-string': {
        const path = targetPath(value, rng);
        value = setAt(value, path, 'x'.repeat(1 << 20));
        mutation = `1 MiB string at ${pathText(path)}`;
        break;
      }
      case 'huge-array': {
        const path = targetPath(value, rng);
        const element = rng.pick<Json>([0, 'x', ids.userId, {}, null]);
        value = setAt(value, path, new Array<Json>(100_000).fill(element));
        mutation = `100k-element array of ${JSON.stringify(element)} at ${pathText(path)}`;
        break;
      }
      default:
        break;
    }
    if (mode === 'raw-fragment') {
      const path = targetPath(value, rng);
      const fragment = rng.pick(RAW_FRAGMENTS);
      body = spliceRaw(JSON.stringify(setAt(value, path, SENTINEL)), fragment.text());
      mutation = `raw ${fragment.name} at ${pathText(path)}`;
    } else if (mode === 'raw-body') {
      const raw = rng.pick(RAW_BODIES);
      body = jsonBytes(raw.text);
      mutation = `raw body: ${raw.name}`;
    } else {
      body = Buffer.from(JSON.stringify(value), 'utf8');
    }
  }

  // Headers and authentication.
  const headers: Record<string, string | string[]> = {};
  if (body !== undefined) headers['content-type'] = endpoint.bodyContentType ?? 'application/json';
  const uri = target;
  if (endpoint.xMatrix) {
    const content = parseIfJson(body);
    if (mode === 'federation-auth') {
      const variant = rng.int(8);
      const valid = world.signAsRemote(endpoint.method, uri, content);
      switch (variant) {
        case 0:
          mutation = 'federation: no Authorization';
          break;
        case 1:
          headers['authorization'] = world.signWithUnknownKey(endpoint.method, uri, content);
          mutation = 'federation: signed with an unpublished key';
          break;
        case 2:
          headers['authorization'] = world.signAsRemote(endpoint.method === 'GET' ? 'POST' : 'GET', uri, content);
          mutation = 'federation: signature over another method';
          break;
        case 3:
          headers['authorization'] = valid.replace(/origin="[^"]*"/, `origin="127.0.0.1:1"`);
          mutation = 'federation: unreachable origin';
          break;
        case 4:
          headers['authorization'] = valid.replace(/destination="[^"]*"/, 'destination="elsewhere.invalid"');
          mutation = 'federation: wrong destination';
          break;
        case 5:
          headers['authorization'] = [valid, valid.replace(/sig="[^"]*"/, 'sig="AAAA"')];
          mutation = 'federation: two Authorization headers';
          break;
        case 6:
          headers['authorization'] = rng.pick(['X-Matrix', 'X-Matrix origin=', 'X-Matrix origin="a",key="b"', 'X-Matrix ,,,,', 'X-Matrix origin="\u00ff",key="ed25519:a",sig="!!"', `X-Matrix origin=${'a'.repeat(4000)}`]);
          mutation = `federation: malformed header ${describe(String(headers['authorization']))}`;
          break;
        default:
          headers['authorization'] = valid.replace(/key="[^"]*"/, 'key="ed25519:nope"');
          mutation = 'federation: unknown key id';
      }
    } else {
      headers['authorization'] = world.signAsRemote(endpoint.method, uri, content);
    }
  } else if (endpoint.auth !== 'none' || rng.chance(0.2)) {
    headers['authorization'] = `Bearer ${ids.accessToken}`;
  }
  if (mode === 'headers') {
    const variant = rng.int(10);
    switch (variant) {
      case 0:
        delete headers['authorization'];
        mutation = 'headers: no Authorization';
        break;
      case 1:
        headers['authorization'] = rng.pick(['Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', 'Bearer a b', `Bearer ${'x'.repeat(8000)}`, 'Bearer \u00ff\u00fe', 'bearer  ' + ids.accessToken, 'X-Matrix origin="a"']);
        mutation = `headers: Authorization ${describe(headers['authorization'])}`;
        break;
      case 2:
        delete headers['authorization'];
        target += `${target.includes('?') ? '&' : '?'}access_token=${rng.pick([encodeURIComponent(ids.accessToken), '', '%FF', 'x'])}`;
        mutation = 'headers: token in the query';
        break;
      case 3:
        target += `${target.includes('?') ? '&' : '?'}access_token=other`;
        mutation = 'headers: token in header and query';
        break;
      case 4:
      case 5:
        headers['content-type'] = rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=utf-16', '', '*/*', 'application/json; boundary=\u00ff']);
        mutation = `headers: content-type ${describe(headers['content-type'])}`;
        break;
      case 6:
        headers['x-forwarded-for'] = rng.pick(['garbage', '::::', '1.2.3.4, 5.6.7.8']);
        mutation = 'headers: x-forwarded-for';
        break;
      case 7:
        headers['accept-encoding'] = 'gzip, deflate, br, zstd';
        headers['accept'] = 'text/html';
        mutation = 'headers: accept';
        break;
      case 8:
        headers['content-encoding'] = rng.pick(['gzip', 'deflate', 'br', 'bogus']);
        mutation = `headers: content-encoding ${headers['content-encoding']}`;
        break;
      default:
        headers['authorization'] = [`Bearer ${ids.accessToken}`, 'Bearer second'];
        mutation = 'headers: two Authorization headers';
    }
  }
  return { operation: endpoint.id, listener: endpoint.listener, method: endpoint.method, target, headers, body, mutation };
}

function getAt(value: Json, path: ValuePath): Json {
  let node: Json | undefined = value;
  for (const key of path) {
    if (Array.isArray(node)) node = node[key as number];
    else if (node !== null && typeof node === 'object') node = node[key as string];
    else return null;
  }
  return node ?? null;
}

function pathText(path: ValuePath): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.');
}

export function describe(text: string, max = 60): string {
  const printable = JSON.stringify(text);
  return printable.length <= max ? printable : `${printable.slice(0, max)}…(${text.length} chars)`;
}
