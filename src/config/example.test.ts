// homeserver.example.yaml is the operator's reference: it must validate, and it must list
// every key of schema/config.schema.json with a comment, so the two cannot drift apart.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from './load.ts';
import { CONFIG_SCHEMA } from './schema-validator.ts';

const EXAMPLE = new URL('../../homeserver.example.yaml', import.meta.url);

type Schema = Record<string, unknown>;

interface SchemaKey {
  /** Dotted path; `[]` marks array items. */
  readonly path: string;
  readonly name: string;
  readonly depth: number;
  readonly inArrayItem: boolean;
  readonly schema: Schema;
}

function resolveRef(schema: Schema, root: Schema): Schema {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  const target = ref.replace(/^#\//, '').split('/').reduce<unknown>((node, segment) => (node as Schema)[segment], root);
  return { ...(target as Schema), ...schema };
}

function schemaKeys(schema: Schema, root: Schema, prefix = '', depth = 0, inArrayItem = false): SchemaKey[] {
  const resolved = resolveRef(schema, root);
  const keys: SchemaKey[] = [];
  const branches = [resolved, ...((resolved['oneOf'] as Schema[] | undefined) ?? [])];
  const seen = new Set<string>();
  for (const branch of branches) {
    for (const [name, child] of Object.entries((branch['properties'] as Record<string, Schema> | undefined) ?? {})) {
      if (seen.has(name)) continue;
      seen.add(name);
      const childPath = prefix === '' ? name : `${prefix}.${name}`;
      keys.push({ path: childPath, name, depth, inArrayItem, schema: resolveRef(child, root) });
      keys.push(...schemaKeys(child, root, childPath, depth + 1, inArrayItem));
    }
  }
  const items = resolved['items'] as Schema | undefined;
  if (items !== undefined) keys.push(...schemaKeys(items, root, `${prefix}[]`, depth + 1, true));
  return keys;
}

const root = CONFIG_SCHEMA as Schema;
const allKeys = schemaKeys(root, root);

test('the schema walk finds the keys the issue requires', () => {
  const paths = new Set(allKeys.map((k) => k.path));
  for (const required of [
    'server_name',
    'public_baseurl',
    'listeners.client.bind',
    'listeners.client.port',
    'listeners.federation.tls_certificate_path',
    'listeners.federation.tls_private_key_path',
    'database.engine',
    'database.path',
    'database.url',
    'data_dir',
    'signing_key_path',
    'registration.shared_secret',
    'federation.allow',
    'federation.trusted_key_servers[].server_name',
    'media.max_upload_bytes',
    'log_level',
    'metrics.port',
    'old_signing_keys[].expired_ts',
    'key_valid_for_ms',
    'well_known_server',
    'max_request_body_bytes',
  ]) {
    assert.ok(paths.has(required), required);
  }
});

test('homeserver.example.yaml validates against the schema', async () => {
  const config = await loadConfig(EXAMPLE.pathname);
  assert.equal(config.server_name, 'example.org');
});

test('every schema key appears in homeserver.example.yaml, with a comment above it', async () => {
  const lines = (await readFile(EXAMPLE, 'utf8')).split('\n');
  for (const key of allKeys) {
    // Active (`  port: 8008`) or commented out (`  # port: 8008`), at its nesting depth.
    const pattern = key.inArrayItem
      ? new RegExp(`^\\s*#?\\s*(?:- )?${key.name}:`)
      : new RegExp(`^${' '.repeat(2 * key.depth)}(?:# )?${key.name}:`);
    const index = lines.findIndex((line) => pattern.test(line));
    assert.notEqual(index, -1, `${key.path} is missing from homeserver.example.yaml`);
    assert.match(lines[index - 1] ?? '', /^\s*#/, `${key.path} has no comment above it`);
  }
});

test('homeserver.example.yaml shows the schema default for every key it sets', async () => {
  // data_dir and the paths under it point at ./data in the example, to keep one folder.
  const exampleDiffersOnPurpose = new Set(['data_dir']);
  const example = parse(await readFile(EXAMPLE, 'utf8')) as Schema;
  for (const key of allKeys) {
    const fallback = key.schema['default'];
    if (key.inArrayItem || fallback === undefined || exampleDiffersOnPurpose.has(key.path)) continue;
    if (typeof fallback === 'object' && fallback !== null && !Array.isArray(fallback)) continue; // a section
    const value = key.path.split('.').reduce<unknown>((node, segment) => (node as Schema | undefined)?.[segment], example);
    assert.deepEqual(value, fallback, `${key.path}: the example shows ${JSON.stringify(value)}, the schema default is ${JSON.stringify(fallback)}`);
  }
});
