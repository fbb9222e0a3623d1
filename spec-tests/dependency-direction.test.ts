// DESIGN.md § "Layout": the dependency direction between Stoa's layers, enforced over the
// real source tree, and the checker itself tested on synthetic files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blankComments,
  checkDependencyDirection,
  formatViolation,
  layerOf,
  parseImports,
  readSourceTree,
  type SourceFile,
} from './rig/dependency-rules.ts';
import { REPO_ROOT } from './rig/nodes.ts';

test('src/ and schema/ follow the dependency direction of DESIGN.md', () => {
  const files = readSourceTree(REPO_ROOT, ['src', 'schema']);
  assert.ok(files.length > 0, 'no sources found');
  const violations = checkDependencyDirection(files);
  assert.deepEqual(violations.map(formatViolation), []);
});

describe('import scanner', () => {
  test('finds static, re-export, side-effect and dynamic imports with their lines', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C, type D } from './cd.ts';",
      "import { type E, f } from './ef.ts';",
      "export { g } from './g.ts';",
      "export type { H } from './h.ts';",
      "export * as ns from './ns.ts';",
      "import './side-effect.ts';",
      'import {',
      '  x,',
      '  y,',
      "} from './multi-line.ts';",
      "const lazy = await import('./lazy.ts');",
      "import schema from '../schema/config.schema.json' with { type: 'json' };",
    ].join('\n');
    const found = parseImports(source).map((r) => [r.specifier, r.typeOnly, r.dynamic, r.line]);
    assert.deepEqual(found, [
      ['./a.ts', false, false, 1],
      ['./b.ts', true, false, 2],
      ['./cd.ts', true, false, 3],
      ['./ef.ts', false, false, 4],
      ['./g.ts', false, false, 5],
      ['./h.ts', true, false, 6],
      ['./ns.ts', false, false, 7],
      ['./side-effect.ts', false, false, 8],
      ['./multi-line.ts', false, false, 9],
      ['./lazy.ts', false, true, 13],
      ['../schema/config.schema.json', false, false, 14],
    ]);
  });

  test('ignores imports in comments and strings but keeps line numbers', () => {
    const source = [
      "// import { x } from '../storage/index.ts';",
      "/* import('../http/app.ts')",
      "   export * from '../crypto/x.ts' */",
      "const text = \"import y from '../admin/z.ts'\";",
      "import { real } from './real.ts';",
    ].join('\n');
    assert.deepEqual(
      parseImports(source).map((r) => [r.specifier, r.line]),
      [['./real.ts', 5]],
    );
    // The string literal on line 4 survives comment blanking but not string blanking.
    assert.match(blankComments(source), /import y from/);
    assert.doesNotMatch(blankComments(source, true), /import y from/);
  });

  test('does not take a division or a regex for a comment, and scans ${} in templates', () => {
    const source = [
      'const half = total / 2; const re = /\\/\\/not-a-comment/g;',
      // eslint-style nested template: the inner import is code and must be found.
      "const t = `a ${await import('./inner.ts')} b`;",
      "import { after } from './after.ts';",
    ].join('\n');
    assert.deepEqual(
      parseImports(source).map((r) => r.specifier),
      ['./inner.ts', './after.ts'],
    );
  });
});

describe('dependency rules', () => {
  const check = (files: SourceFile[]): string[] => checkDependencyDirection(files).map(formatViolation);

  test('layers come from the folder under src/', () => {
    assert.equal(layerOf('src/rooms/auth/authorize.ts'), 'rooms');
    assert.equal(layerOf('src/client-api/endpoints/login/login.ts'), 'client-api');
    assert.equal(layerOf('src/main.ts'), 'main');
    assert.equal(layerOf('src/logger.test.ts'), 'logger');
    assert.equal(layerOf('schema/migrations/0001_initial.ts'), 'schema');
    assert.equal(layerOf('src/unknown-top-level.ts'), undefined);
    assert.equal(layerOf('spec-tests/rig/nodes.ts'), undefined);
  });

  test('rooms may import nothing of Stoa', () => {
    assert.deepEqual(check([{ path: 'src/rooms/pdu/x.ts', text: "import { sign } from '../../crypto/signed-json.ts';" }]), [
      'src/rooms/pdu/x.ts:1: imports ../../crypto/signed-json.ts (layer rooms may not import layer crypto)',
    ]);
    // Not even the logger or config types, which every other layer may use.
    assert.equal(check([{ path: 'src/rooms/x.ts', text: "import type { Logger } from '../logger.ts';" }]).length, 1);
    assert.equal(check([{ path: 'src/rooms/x.ts', text: "import type { StoaConfig } from '../config/types.ts';" }]).length, 1);
    assert.deepEqual(check([{ path: 'src/rooms/x.ts', text: "import { y } from './auth/y.ts';" }]), []);
  });

  test('rooms is pure: no I/O modules, clock or randomness outside tests', () => {
    const impure = [
      "import { readFile } from 'node:fs/promises';",
      "import net from 'net';",
      'export const now = () => Date.now();',
      'export const id = () => Math.random().toString(36);',
      'export const t = performance.now();',
      'export const d = new Date();',
      "export const env = process.env['X'];",
    ].join('\n');
    const found = check([{ path: 'src/rooms/ids.ts', text: impure }]);
    assert.deepEqual(found, [
      'src/rooms/ids.ts:1: imports node:fs/promises (layer rooms is pure and may not import the I/O module node:fs/promises)',
      'src/rooms/ids.ts:2: imports net (layer rooms is pure and may not import the I/O module node:net)',
      'src/rooms/ids.ts:3: uses Date.now() (clock) (layer rooms is pure)',
      'src/rooms/ids.ts:4: uses Math.random (randomness) (layer rooms is pure)',
      'src/rooms/ids.ts:5: uses performance.now (clock) (layer rooms is pure)',
      'src/rooms/ids.ts:6: uses new Date() (clock) (layer rooms is pure)',
      'src/rooms/ids.ts:7: uses process.* (environment) (layer rooms is pure)',
    ]);
    // Mentions in comments and strings, a Date built from a value, hashing: all fine.
    const pure = [
      '// never call Date.now() here',
      "const note = 'Math.random is banned';",
      'export const at = (ts: number) => new Date(ts);',
      "import { createHash } from 'node:crypto';",
    ].join('\n');
    assert.deepEqual(check([{ path: 'src/rooms/ok.ts', text: pure }]), []);
    // Tests may use the clock and the file system.
    assert.deepEqual(check([{ path: 'src/rooms/ids.test.ts', text: impure }]), []);
  });

  test('federation and client-api never import each other', () => {
    assert.deepEqual(check([{ path: 'src/federation/server/send.ts', text: "import { x } from '../../client-api/sync/y.ts';" }]), [
      'src/federation/server/send.ts:1: imports ../../client-api/sync/y.ts (layer federation may not import layer client-api)',
    ]);
    assert.equal(check([{ path: 'src/client-api/a.ts', text: "import type { X } from '../federation/b.ts';" }]).length, 1);
  });

  test('the allowed directions pass', () => {
    const files: SourceFile[] = [
      { path: 'src/crypto/a.ts', text: "import { canonicalJson } from '../rooms/canonical-json.ts';" },
      { path: 'src/storage/a.ts', text: "import type { Database } from '../../schema/database.ts';\nimport { Kysely } from 'kysely';" },
      { path: 'src/roomserver/a.ts', text: "import { x } from '../storage/index.ts';\nimport { y } from '../crypto/y.ts';\nimport { z } from '../rooms/z.ts';" },
      { path: 'src/federation/a.ts', text: "import { x } from '../roomserver/x.ts';\nimport { defineEndpoint } from '../http/endpoint.ts';" },
      { path: 'src/media/a.ts', text: "import type { Logger } from '../logger.ts';\nimport type { StoaConfig } from '../config/types.ts';" },
      { path: 'src/http/a.ts', text: "import type { StoaDatabase } from '../storage/index.ts';\nimport { ConfigError } from '../config/config-error.ts';" },
      { path: 'src/config/a.ts', text: "import schema from '../../schema/config.schema.json' with { type: 'json' };" },
      { path: 'src/main.ts', text: "import { a } from './federation/a.ts';\nimport { b } from './client-api/b.ts';" },
      { path: 'src/cli/commands/x.ts', text: "import { startServer } from '../../main.ts';" },
    ];
    assert.deepEqual(check(files), []);
  });

  test('type-only access is enforced: http sees storage only as types; config/types.ts only as types', () => {
    assert.deepEqual(check([{ path: 'src/http/a.ts', text: "import { openDatabase } from '../storage/index.ts';" }]), [
      'src/http/a.ts:1: imports ../storage/index.ts (layer http may import layer storage only with import type)',
    ]);
    assert.deepEqual(check([{ path: 'src/storage/a.ts', text: "import { x } from '../config/types.ts';" }]), [
      'src/storage/a.ts:1: imports ../config/types.ts (layer storage may not import layer config)',
    ]);
  });

  test('nothing imports the composition root, and only storage and schema use the database packages', () => {
    assert.deepEqual(check([{ path: 'src/client-api/a.ts', text: "import { startServer } from '../main.ts';" }]), [
      'src/client-api/a.ts:1: imports ../main.ts (layer client-api may not import layer main)',
    ]);
    assert.deepEqual(check([{ path: 'src/roomserver/a.ts', text: "import { sql } from 'kysely';\nimport pg from 'pg';" }]), [
      'src/roomserver/a.ts:1: imports kysely (layer roomserver may not import the database package kysely; only storage and schema may)',
      'src/roomserver/a.ts:2: imports pg (layer roomserver may not import the database package pg; only storage and schema may)',
    ]);
  });

  test('dynamic imports count, and files outside every layer are reported', () => {
    assert.deepEqual(check([{ path: 'src/storage/a.ts', text: "const m = await import('../roomserver/x.ts');" }]), [
      'src/storage/a.ts:1: imports ../roomserver/x.ts (layer storage may not import layer roomserver)',
    ]);
    assert.deepEqual(check([{ path: 'src/federation/a.ts', text: "import { startNodes } from '../../spec-tests/rig/nodes.ts';" }]), [
      'src/federation/a.ts:1: imports ../../spec-tests/rig/nodes.ts (layer federation may not import spec-tests/rig/nodes.ts, which is in no layer)',
    ]);
    assert.deepEqual(check([{ path: 'src/helpers.ts', text: '' }]), ['src/helpers.ts:1: is in no layer of DESIGN.md (add its folder to DEPENDENCY_RULES)']);
  });
});
