// Response validation against the Matrix spec's OpenAPI (data/api/**, OpenAPI 3.1).
//
// OpenAPI 3.1 schemas are JSON Schema 2020-12, so ajv validates them directly. Every YAML
// file is registered with ajv under its file:// URL as `$id`; ajv then resolves the spec's
// `$ref`s itself (relative paths such as `definitions/keys.yaml` or
// `../../event-schemas/schema/components/…`, and JSON pointers such as
// `#/components/schemas/…`), recursion included. We only follow refs by hand at the
// OpenAPI level (a response object that is a `$ref`), which ajv does not know about.
//
// The spec checkout is found at `<repo>/../shared/matrix-spec`; STOA_MATRIX_SPEC_DIR
// overrides that (read here only: this is test tooling, not Stoa).

import { AssertionError } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The spec checkout (`content/`, `data/api/`, …). */
export function specDirectory(): string {
  const override = process.env['STOA_MATRIX_SPEC_DIR'];
  const dir = override !== undefined && override !== '' ? resolve(override) : resolve(REPO_ROOT, '..', 'shared', 'matrix-spec');
  if (!existsSync(join(dir, 'data', 'api'))) {
    throw new Error(`Matrix spec not found at ${dir} (expected data/api/ inside); set STOA_MATRIX_SPEC_DIR`);
  }
  return dir;
}

/** The APIs under data/api/, named as the folders are. */
export type SpecApi = 'client-server' | 'server-server' | 'application-service' | 'identity' | 'push-gateway';

export interface SpecOperation {
  readonly api: SpecApi;
  readonly operationId: string;
  /** Lower-case HTTP method. */
  readonly method: string;
  /** Full path template, base path included: `/_matrix/client/v3/rooms/{roomId}/state`. */
  readonly pathTemplate: string;
  /** The YAML file declaring it. */
  readonly fileUrl: string;
  /** JSON pointer to the operation object inside that file. */
  readonly pointer: string;
}

/**
 * An operation by operationId (`getVersions`; qualify with the API when ambiguous:
 * `server-server:getRoomState`) or by method and concrete request path
 * (`{ method: 'GET', path: '/_matrix/client/v3/rooms/!a:b/state' }`, query ignored).
 */
export type OperationRef = string | { readonly method: string; readonly path: string };

export interface SpecResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Ajv's error, with the location in the body (`/versions/0`) and in the schema. */
export interface SchemaError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------
// Loading

interface Located {
  readonly fileUrl: string;
  readonly pointer: string;
  readonly value: unknown;
}

const documents = new Map<string, unknown>();

function loadDocument(fileUrl: string): unknown {
  let doc = documents.get(fileUrl);
  if (doc === undefined) {
    const text = readFileSync(fileURLToPath(fileUrl), 'utf8');
    doc = fileUrl.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    documents.set(fileUrl, doc);
  }
  return doc;
}

function escapePointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointerSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function evaluatePointer(doc: unknown, pointer: string, where: string): unknown {
  if (pointer === '' || pointer === '/') return doc;
  let node = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = unescapePointerSegment(raw);
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isRecord(node)) node = node[key];
    else node = undefined;
    if (node === undefined) throw new Error(`spec: ${where}: pointer ${pointer} does not resolve`);
  }
  return node;
}

/** Splits a `$ref` into the file it names (resolved against `baseUrl`) and its pointer. */
function resolveRefTarget(ref: string, baseUrl: string): { fileUrl: string; pointer: string } {
  const hash = ref.indexOf('#');
  const filePart = hash === -1 ? ref : ref.slice(0, hash);
  const fragment = hash === -1 ? '' : decodeURIComponent(ref.slice(hash + 1));
  const fileUrl = filePart === '' ? baseUrl : new URL(filePart, baseUrl).href;
  return { fileUrl, pointer: fragment };
}

/** Follows `$ref` chains of OpenAPI objects (responses, media types) to the real object. */
function deref(located: Located): Located {
  let current = located;
  for (let hops = 0; hops < 32; hops++) {
    const value = current.value;
    if (!isRecord(value) || typeof value['$ref'] !== 'string') return current;
    const target = resolveRefTarget(value['$ref'], current.fileUrl);
    current = { ...target, value: evaluatePointer(loadDocument(target.fileUrl), target.pointer, target.fileUrl) };
  }
  throw new Error(`spec: $ref chain too long at ${located.fileUrl}#${located.pointer}`);
}

// ---------------------------------------------------------------------------------------
// The operation index

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
const API_NAMES: readonly SpecApi[] = ['client-server', 'server-server', 'application-service', 'identity', 'push-gateway'];
// Stoa serves these two; an unqualified operationId found in one of them wins over the
// same id in an API Stoa does not implement (identity's getVersions, say).
const SERVED_APIS: ReadonlySet<SpecApi> = new Set(['client-server', 'server-server']);

interface IndexedOperation extends SpecOperation {
  readonly matcher: RegExp;
  /** Characters of the template outside `{params}`: more means a more specific match. */
  readonly literalLength: number;
}

let operationIndex: readonly IndexedOperation[] | undefined;

function templateMatcher(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

function buildIndex(): readonly IndexedOperation[] {
  const apiRoot = join(specDirectory(), 'data', 'api');
  const operations: IndexedOperation[] = [];
  for (const api of API_NAMES) {
    const dir = join(apiRoot, api);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.yaml')) continue;
      const fileUrl = pathToFileURL(join(dir, name)).href;
      const doc = loadDocument(fileUrl);
      if (!isRecord(doc) || !isRecord(doc['paths'])) continue;
      const basePath = basePathOf(doc);
      for (const [path, item] of Object.entries(doc['paths'])) {
        if (!isRecord(item)) continue;
        for (const method of HTTP_METHODS) {
          const op = item[method];
          if (!isRecord(op) || typeof op['operationId'] !== 'string') continue;
          const pathTemplate = basePath + path;
          operations.push({
            api,
            operationId: op['operationId'],
            method,
            pathTemplate,
            fileUrl,
            pointer: `/paths/${escapePointerSegment(path)}/${method}`,
            matcher: templateMatcher(pathTemplate),
            literalLength: pathTemplate.replace(/\{[^}]+\}/g, '').length,
          });
        }
      }
    }
  }
  return operations;
}

/** The `basePath` server variable's default (`/_matrix/client/v3`), or '' when absent. */
function basePathOf(doc: Record<string, unknown>): string {
  const servers = doc['servers'];
  if (!Array.isArray(servers)) return '';
  const first: unknown = servers[0];
  if (!isRecord(first) || !isRecord(first['variables'])) return '';
  const basePath = first['variables']['basePath'];
  return isRecord(basePath) && typeof basePath['default'] === 'string' ? basePath['default'] : '';
}

function index(): readonly IndexedOperation[] {
  operationIndex ??= buildIndex();
  return operationIndex;
}

/** Every operation of every API in the spec. */
export function listOperations(): readonly SpecOperation[] {
  return index();
}

/** The operation `ref` names; throws when none or (for an unqualified id) several match. */
export function findOperation(ref: OperationRef): SpecOperation {
  if (typeof ref === 'string') return findById(ref);
  const method = ref.method.toLowerCase();
  const path = ref.path.split('?')[0] ?? '';
  const matches = index().filter((op) => op.method === method && op.matcher.test(path));
  if (matches.length === 0) throw new Error(`spec: no operation for ${ref.method.toUpperCase()} ${path}`);
  // `/rooms/{roomId}/state/{eventType}` and a literal sibling can both match: the template
  // with more literal text is the one meant.
  matches.sort((a, b) => b.literalLength - a.literalLength);
  const [best, next] = matches;
  if (best === undefined) throw new Error('unreachable');
  if (next !== undefined && next.literalLength === best.literalLength) {
    throw new Error(`spec: ${ref.method.toUpperCase()} ${path} is ambiguous: ${best.pathTemplate} or ${next.pathTemplate}`);
  }
  return best;
}

function findById(ref: string): SpecOperation {
  const colon = ref.indexOf(':');
  const api = colon === -1 ? undefined : ref.slice(0, colon);
  const operationId = colon === -1 ? ref : ref.slice(colon + 1);
  let matches = index().filter((op) => op.operationId === operationId && (api === undefined || op.api === api));
  if (api === undefined && matches.length > 1) {
    const served = matches.filter((op) => SERVED_APIS.has(op.api));
    if (served.length > 0) matches = served;
  }
  const [only, other] = matches;
  if (only === undefined) throw new Error(`spec: no operation with operationId ${ref}`);
  if (other !== undefined) {
    const choices = matches.map((op) => `${op.api}:${op.operationId}`).join(', ');
    throw new Error(`spec: operationId ${ref} is ambiguous; qualify it as one of ${choices}`);
  }
  return only;
}

// ---------------------------------------------------------------------------------------
// Validation

// Appendices § "Identifier Grammar" and § "Server Name". Deliberately as lenient as the
// grammars (historical user IDs, v12 room IDs without a server name): these check shape.
const MATRIX_FORMATS: Readonly<Record<string, RegExp>> = {
  'mx-user-id': /^@[\x21-\x39\x3b-\x7e]+:.+$/,
  'mx-room-id': /^!.+$/,
  'mx-event-id': /^\$.+$/,
  'mx-room-alias': /^#[^:]+:.+$/,
  'mx-mxc-uri': /^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/,
  'mx-server-name': /^(?:\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z.-]{1,255})(?::[0-9]{1,5})?$/,
  'mx-unpadded-base64': /^[A-Za-z0-9+/]*$/,
};

let ajvInstance: Ajv2020 | undefined;
const registered = new Set<string>();
const validators = new Map<string, ValidateFunction>();

function ajv(): Ajv2020 {
  if (ajvInstance !== undefined) return ajvInstance;
  // strict: false because OpenAPI schemas carry `example`, `x-*` and other keywords that
  // are not JSON Schema; allErrors so a failure lists every problem at once.
  const instance = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  // ajv-formats is CommonJS; under Node's ESM loader its default export is the plugin.
  const addFormats = addFormatsModule as unknown as (a: Ajv2020) => Ajv2020;
  addFormats(instance);
  for (const [name, pattern] of Object.entries(MATRIX_FORMATS)) instance.addFormat(name, pattern);
  instance.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  instance.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajvInstance = instance;
  return instance;
}

/**
 * Registers with ajv the file behind every `$ref` reachable from `fileUrl#pointer`, so
 * compiling finds them. Refs inside `example`/`examples` values are illustrations (they
 * even point at non-schema files) and are skipped, unless the key is a property name.
 */
function registerReachable(fileUrl: string, pointer: string, seen: Set<string>): void {
  const key = `${fileUrl}#${pointer}`;
  if (seen.has(key)) return;
  seen.add(key);
  const doc = loadDocument(fileUrl);
  if (!registered.has(fileUrl)) {
    if (isRecord(doc)) {
      // A copy with $id, so ajv resolves this file's relative refs against its own URL.
      ajv().addSchema({ ...doc, $id: fileUrl }, fileUrl, undefined, false);
    }
    registered.add(fileUrl);
  }
  const refs: string[] = [];
  collectRefs(evaluatePointer(doc, pointer, fileUrl), false, refs);
  for (const ref of refs) {
    const target = resolveRefTarget(ref, fileUrl);
    registerReachable(target.fileUrl, target.pointer, seen);
  }
}

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'schemas']);

function collectRefs(node: unknown, isSchemaMap: boolean, out: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, false, out);
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (!isSchemaMap && (key === 'example' || key === 'examples')) continue;
    if (key === '$ref' && typeof value === 'string' && !isSchemaMap) out.push(value);
    else collectRefs(value, !isSchemaMap && SCHEMA_MAPS.has(key), out);
  }
}

function validatorFor(fileUrl: string, pointer: string): ValidateFunction {
  const ref = `${fileUrl}#${pointer.split('/').map(encodeURIComponent).join('/')}`;
  let validate = validators.get(ref);
  if (validate === undefined) {
    registerReachable(fileUrl, pointer, new Set());
    validate = ajv().compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

/** `status` as the spec's response keys allow: exact, then `4XX`-style ranges, then `default`. */
function responseFor(op: SpecOperation, status: number): Located | undefined {
  const responses = deref({ fileUrl: op.fileUrl, pointer: `${op.pointer}/responses`, value: evaluatePointer(loadDocument(op.fileUrl), `${op.pointer}/responses`, op.fileUrl) });
  if (!isRecord(responses.value)) return undefined;
  for (const key of [String(status), `${String(status).charAt(0)}XX`, 'default']) {
    const value = responses.value[key];
    if (value !== undefined) return deref({ fileUrl: responses.fileUrl, pointer: `${responses.pointer}/${key}`, value });
  }
  return undefined;
}

function describeOperation(op: SpecOperation): string {
  return `${op.api}:${op.operationId} (${op.method.toUpperCase()} ${op.pathTemplate})`;
}

function formatErrors(errors: readonly ErrorObject[] | null | undefined): SchemaError[] {
  return (errors ?? []).map((e) => ({
    instancePath: e.instancePath === '' ? '/' : e.instancePath,
    schemaPath: e.schemaPath,
    message: e.message ?? e.keyword,
  }));
}

/**
 * The schema errors of `res` against the spec's response for its status code: [] when it
 * conforms. Throws (not returns) when the spec declares no response for that status.
 */
export function specResponseErrors(res: SpecResponse, operation: OperationRef): SchemaError[] {
  const op = findOperation(operation);
  const response = responseFor(op, res.status);
  if (response === undefined) {
    throw new AssertionError({ message: `${describeOperation(op)}: the spec declares no response for status ${res.status} (and no default); body: ${truncate(JSON.stringify(res.body))}` });
  }
  if (!isRecord(response.value) || !isRecord(response.value['content'])) return [];
  const json = response.value['content']['application/json'];
  if (!isRecord(json) || json['schema'] === undefined) return [];
  const validate = validatorFor(response.fileUrl, `${response.pointer}/content/application~1json/schema`);
  return validate(res.body) ? [] : formatErrors(validate.errors);
}

/**
 * Asserts that `res.body` matches the spec's schema for `operation`'s response with
 * `res.status` (or the `default` response). Throws an AssertionError listing each schema
 * error with its path in the body.
 */
export function expectSpecResponse(res: SpecResponse, operation: OperationRef): void {
  const errors = specResponseErrors(res, operation);
  if (errors.length === 0) return;
  const op = findOperation(operation);
  const lines = errors.map((e) => `  ${e.instancePath}: ${e.message} (schema ${e.schemaPath})`);
  throw new AssertionError({
    message: `${describeOperation(op)} ${res.status}: body does not match the spec:\n${lines.join('\n')}\nbody: ${truncate(JSON.stringify(res.body))}`,
    actual: res.body,
    operator: 'expectSpecResponse',
  });
}

/**
 * Asserts a Matrix error (client-server API § "Standard error response"): `status`, a body
 * valid against the spec's error schema, and `errcode`.
 */
export function expectMatrixError(res: SpecResponse, status: number, errcode: string): void {
  const prefix = `expected ${status} ${errcode}, got ${res.status} ${truncate(JSON.stringify(res.body))}`;
  if (res.status !== status) throw new AssertionError({ message: prefix, actual: res.status, expected: status, operator: 'expectMatrixError' });
  const errorSchemaUrl = pathToFileURL(join(specDirectory(), 'data', 'api', 'client-server', 'definitions', 'errors', 'error.yaml')).href;
  const validate = validatorFor(errorSchemaUrl, '');
  if (!validate(res.body)) {
    const lines = formatErrors(validate.errors).map((e) => `  ${e.instancePath}: ${e.message}`);
    throw new AssertionError({ message: `${prefix}: not a Matrix error body:\n${lines.join('\n')}` });
  }
  const actual = (res.body as Record<string, unknown>)['errcode'];
  if (actual !== errcode) throw new AssertionError({ message: prefix, actual, expected: errcode, operator: 'expectMatrixError' });
}

function truncate(text: string | undefined, max = 2000): string {
  if (text === undefined) return 'undefined';
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

// ---------------------------------------------------------------------------------------
// Request shapes (for generating requests: the fuzzer in spec-tests/fuzz/)

/** One declared parameter of an operation, its schema with every `$ref` inlined. */
export interface RequestParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required: boolean;
  readonly schema: unknown;
}

/** What a request to an operation may carry, per the spec. */
export interface OperationRequest {
  readonly operation: SpecOperation;
  readonly parameters: readonly RequestParameter[];
  /** The JSON body's schema with `$ref`s inlined (recursion cut to `{}`), or undefined. */
  readonly bodySchema: unknown;
  readonly bodyRequired: boolean;
  /** The first content type the request body declares (`application/json` for most). */
  readonly bodyContentType: string | undefined;
}

/**
 * The parameters and request body `operation` declares. Schemas come back self-contained:
 * every `$ref` replaced by its target, and a reference back into a schema already being
 * inlined (the spec's recursive event schemas) replaced by `{}`, "anything".
 */
export function operationRequest(operation: OperationRef): OperationRequest {
  const op = findOperation(operation);
  const opObject = evaluatePointer(loadDocument(op.fileUrl), op.pointer, op.fileUrl);
  const parameters: RequestParameter[] = [];
  if (isRecord(opObject) && Array.isArray(opObject['parameters'])) {
    opObject['parameters'].forEach((raw: unknown, i: number) => {
      const param = deref({ fileUrl: op.fileUrl, pointer: `${op.pointer}/parameters/${i}`, value: raw });
      if (!isRecord(param.value) || typeof param.value['name'] !== 'string') return;
      const where = param.value['in'];
      if (where !== 'path' && where !== 'query' && where !== 'header' && where !== 'cookie') return;
      parameters.push({
        name: param.value['name'],
        in: where,
        required: param.value['required'] === true,
        schema: inlineRefs(param.value['schema'] ?? {}, param.fileUrl, []),
      });
    });
  }
  let bodySchema: unknown;
  let bodyRequired = false;
  let bodyContentType: string | undefined;
  if (isRecord(opObject) && opObject['requestBody'] !== undefined) {
    const body = deref({ fileUrl: op.fileUrl, pointer: `${op.pointer}/requestBody`, value: opObject['requestBody'] });
    if (isRecord(body.value)) {
      bodyRequired = body.value['required'] === true;
      const content = body.value['content'];
      if (isRecord(content)) {
        bodyContentType = Object.keys(content)[0];
        const media = content['application/json'];
        if (isRecord(media) && media['schema'] !== undefined) bodySchema = inlineRefs(media['schema'], body.fileUrl, []);
      }
    }
  }
  return { operation: op, parameters, bodySchema, bodyRequired, bodyContentType };
}

function inlineRefs(node: unknown, fileUrl: string, stack: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, fileUrl, stack));
  if (!isRecord(node)) return node;
  if (typeof node['$ref'] === 'string') {
    const target = resolveRefTarget(node['$ref'], fileUrl);
    const key = `${target.fileUrl}#${target.pointer}`;
    if (stack.includes(key) || stack.length > 24) return {};
    const value = evaluatePointer(loadDocument(target.fileUrl), target.pointer, target.fileUrl);
    const { $ref: _ref, ...siblings } = node;
    const resolved = inlineRefs(value, target.fileUrl, [...stack, key]);
    return Object.keys(siblings).length === 0 || !isRecord(resolved) ? resolved : { ...resolved, ...inlineRefs(siblings, fileUrl, stack) as Record<string, unknown> };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // Examples are illustrations, not schemas; leave them out.
    if (key === 'example' || key === 'examples') continue;
    out[key] = inlineRefs(value, fileUrl, stack);
  }
  return out;
}
