// The dependency direction of ../shared/DESIGN.md § "Layout", as a table, and a checker
// that reads import specifiers out of TypeScript sources (static, re-exports, dynamic
// `import('...')`) and reports every import the table does not allow. It also checks
// that the protocol core (`src/rooms`) stays pure: no I/O modules, no clock, no randomness.
//
// The parser is a scanner, not a TypeScript parser: it blanks comments (and, for the
// purity check, string contents) and matches import forms with regular expressions. That
// is enough for code that follows our style, and it fails loud rather than quiet: an import
// it cannot classify is reported.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';

/** Where a file sits in DESIGN.md's layout. */
export type Layer =
  | 'rooms'
  | 'crypto'
  | 'storage'
  | 'schema'
  | 'roomserver'
  | 'federation'
  | 'client-api'
  | 'media'
  | 'admin'
  | 'appservice'
  | 'http'
  | 'net'
  | 'config'
  | 'logger'
  | 'main'
  | 'cli';

/** 'value': any import; 'type': only `import type` / `export type` (erased at run time). */
export type Access = 'value' | 'type';

/** Which layers each layer may import, besides itself. `'anything'` for the wiring layers. */
export const DEPENDENCY_RULES: Readonly<Record<Layer, Readonly<Partial<Record<Layer, Access>>> | 'anything'>> = {
  // The pure protocol core imports nothing of Stoa.
  rooms: {},
  crypto: { rooms: 'value' },
  storage: { schema: 'value' },
  schema: {},
  roomserver: { rooms: 'value', crypto: 'value', storage: 'value' },
  // The network front ends. federation and client-api never import each other.
  federation: { roomserver: 'value', rooms: 'value', crypto: 'value', storage: 'value', http: 'value', net: 'value' },
  'client-api': { roomserver: 'value', rooms: 'value', crypto: 'value', storage: 'value', http: 'value', net: 'value', appservice: 'type' },
  media: { roomserver: 'value', rooms: 'value', crypto: 'value', storage: 'value', http: 'value', net: 'value' },
  admin: { roomserver: 'value', rooms: 'value', crypto: 'value', storage: 'value', http: 'value' },
  // Application services: below the client API, which sees them only as types (main.ts passes
  // them in); registration files are config, so their errors are ConfigErrors.
  appservice: { roomserver: 'value', rooms: 'value', storage: 'value', http: 'value', config: 'value' },
  // The HTTP framework sees storage only as types (a handle to pass on, never queries).
  http: { rooms: 'value', crypto: 'value', storage: 'type', config: 'value' },
  // Outbound-connection safety (the private-address guard, DNS): node built-ins only.
  net: {},
  // config reads schema/config.schema.json.
  config: { schema: 'value' },
  logger: {},
  // The composition root and the CLI wire everything.
  main: 'anything',
  cli: 'anything',
};

/**
 * Modules every layer but `rooms` may import, whatever the table says: the logger, and the
 * config types (each component receives its slice of StoaConfig from main.ts).
 */
export const SHARED_MODULES: ReadonlyArray<{ readonly path: string; readonly access: Access }> = [
  { path: 'src/logger.ts', access: 'value' },
  { path: 'src/config/types.ts', access: 'type' },
];

/** DESIGN.md: storage is the only importer of kysely (schema holds its Database types). */
export const DATABASE_PACKAGES: readonly string[] = ['kysely', 'pg', '@electric-sql/pglite'];
export const DATABASE_PACKAGE_LAYERS: ReadonlySet<Layer> = new Set<Layer>(['storage', 'schema']);

/** Built-in modules that do I/O, which `rooms` (pure) must not import. */
export const IMPURE_BUILTINS: ReadonlySet<string> = new Set([
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'child_process',
  'cluster',
  'worker_threads',
  'os',
  'process',
  'readline',
  'timers',
  'timers/promises',
  'perf_hooks',
  'inspector',
  'vm',
]);

/** Clock, randomness and environment access forbidden in `rooms` outside tests. */
export const IMPURE_CALLS: ReadonlyArray<{ readonly pattern: RegExp; readonly what: string }> = [
  { pattern: /\bDate\.now\s*\(/, what: 'Date.now() (clock)' },
  { pattern: /\bnew\s+Date\s*\(\s*\)/, what: 'new Date() (clock)' },
  { pattern: /\bperformance\.now\b/, what: 'performance.now (clock)' },
  { pattern: /\bMath\.random\b/, what: 'Math.random (randomness)' },
  { pattern: /\b(?:randomBytes|randomUUID|randomInt|getRandomValues)\b/, what: 'random generation (randomness)' },
  { pattern: /\bprocess\s*\./, what: 'process.* (environment)' },
  { pattern: /\b(?:setTimeout|setInterval|setImmediate)\s*\(/, what: 'timers (clock)' },
  { pattern: /\bfetch\s*\(/, what: 'fetch (I/O)' },
];

export interface SourceFile {
  /** Repo-relative, '/'-separated: `src/rooms/json.ts`. */
  readonly path: string;
  readonly text: string;
}

export interface ImportRecord {
  readonly specifier: string;
  /** `import type`, `export type`, or named imports that are all `type X`. */
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
  readonly line: number;
}

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.message}`;
}

// ---------------------------------------------------------------------------------------
// Scanning

/**
 * `text` with comments replaced by spaces (newlines kept, so offsets and line numbers still
 * match) and, when `blankStrings`, the contents of string, template and regex literals too.
 * Code inside a template's `${...}` is scanned as code.
 */
export function blankComments(text: string, blankStrings = false): string {
  const out = text.split('');
  const blank = (from: number, to: number): void => {
    if (!blankStrings) return;
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' ';
  };
  const blankComment = (from: number, to: number): void => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' ';
  };

  // Scans code from `i`; with `untilBrace`, stops after the `}` closing a `${`.
  const scanCode = (start: number, untilBrace: boolean): number => {
    let i = start;
    let depth = 0;
    // Whether a `/` here would start a regular expression rather than divide.
    let regexAllowed = true;
    while (i < text.length) {
      const c = text[i] ?? '';
      const next = text[i + 1];
      if (untilBrace && c === '}' && depth === 0) return i + 1;
      if (c === '/' && next === '/') {
        const end = text.indexOf('\n', i);
        const stop = end === -1 ? text.length : end;
        blankComment(i, stop);
        i = stop;
      } else if (c === '/' && next === '*') {
        const end = text.indexOf('*/', i + 2);
        const stop = end === -1 ? text.length : end + 2;
        blankComment(i, stop);
        i = stop;
      } else if (c === '"' || c === "'") {
        const stop = endOfQuoted(text, i, c);
        blank(i + 1, stop - 1);
        i = stop;
        regexAllowed = false;
      } else if (c === '`') {
        i = scanTemplate(i);
        regexAllowed = false;
      } else if (c === '/' && regexAllowed) {
        const stop = endOfRegex(text, i);
        blank(i + 1, stop - 1);
        i = stop;
        regexAllowed = false;
      } else if (/[\w$]/.test(c)) {
        // After an identifier or a number, `/` divides, except after keywords that
        // precede expressions.
        let j = i;
        while (j < text.length && /[\w$]/.test(text[j] ?? '')) j++;
        regexAllowed = /^(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(text.slice(i, j));
        i = j;
      } else {
        if (c === '{') depth++;
        else if (c === '}') depth--;
        if (c === ')' || c === ']' || c === '}') regexAllowed = false;
        else if (!/\s/.test(c)) regexAllowed = true;
        i++;
      }
    }
    return i;
  };

  const scanTemplate = (start: number): number => {
    let i = start + 1;
    let literalFrom = i;
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        blank(literalFrom, i);
        return i + 1;
      } else if (c === '$' && text[i + 1] === '{') {
        blank(literalFrom, i);
        i = scanCode(i + 2, true);
        literalFrom = i;
      } else i++;
    }
    blank(literalFrom, text.length);
    return text.length;
  };

  scanCode(0, false);
  return out.join('');
}

function endOfQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === quote) return i + 1;
    else if (c === '\n') return i; // unterminated: stop at the line end
    else i++;
  }
  return text.length;
}

function endOfRegex(text: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '\n') return i;
    else if (c === '[') (inClass = true), i++;
    else if (c === ']') (inClass = false), i++;
    else if (c === '/' && !inClass) {
      i++;
      while (i < text.length && /[a-z]/i.test(text[i] ?? '')) i++;
      return i;
    } else i++;
  }
  return text.length;
}

// Matched on the source with comments and string contents blanked (so an import written
// inside a string or comment is not one); the specifier is then read at the same offsets
// from the source with only comments blanked.
const STATIC_FROM = /\b(import|export)(\s+type\b)?\s*([\w\s{},*$]*?)\s*\bfrom\s*(['"])([^'"\n]*)\4/dg;
const SIDE_EFFECT = /\bimport\s*(['"])([^'"\n]*)\1/dg;
const DYNAMIC = /\bimport\s*\(\s*(['"`])([^'"`\n]*)\1\s*[,)]/dg;

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function isTypeOnlyClause(clause: string): boolean {
  const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (braces === null) return false;
  const names = (braces[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return names.length > 0 && names.every((name) => /^type\s/.test(name));
}

/** The import and re-export specifiers of a TypeScript source. */
export function parseImports(source: string): ImportRecord[] {
  const code = blankComments(source);
  const blanked = blankComments(source, true);
  const specifierOf = (m: RegExpMatchArray, group: number): string => {
    const span = m.indices?.[group];
    return span === undefined ? '' : code.slice(span[0], span[1]);
  };
  const records: ImportRecord[] = [];
  for (const m of blanked.matchAll(STATIC_FROM)) {
    const typeOnly = m[2] !== undefined || isTypeOnlyClause(m[3] ?? '');
    records.push({ specifier: specifierOf(m, 5), typeOnly, dynamic: false, line: lineAt(code, m.index) });
  }
  for (const m of blanked.matchAll(SIDE_EFFECT)) {
    records.push({ specifier: specifierOf(m, 2), typeOnly: false, dynamic: false, line: lineAt(code, m.index) });
  }
  for (const m of blanked.matchAll(DYNAMIC)) {
    records.push({ specifier: specifierOf(m, 2), typeOnly: false, dynamic: true, line: lineAt(code, m.index) });
  }
  return records.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------
// Checking

/** The layer of a repo-relative path, or undefined for a file outside every layer. */
export function layerOf(path: string): Layer | undefined {
  if (path.startsWith('schema/')) return 'schema';
  // Top-level modules (and their unit tests) are layers of their own.
  const topLevel = /^src\/([^/]+?)(?:\.test)?\.ts$/.exec(path)?.[1];
  if (topLevel === 'main') return 'main';
  if (topLevel === 'logger') return 'logger';
  const match = /^src\/([^/]+)\//.exec(path);
  if (match === null) return undefined;
  const dir = match[1] ?? '';
  return dir in DEPENDENCY_RULES && dir !== 'main' && dir !== 'logger' ? (dir as Layer) : undefined;
}

function isTestFile(path: string): boolean {
  return path.endsWith('.test.ts');
}

const BUILTINS = new Set(builtinModules);

/** `pkg` of `pkg/sub`, `@scope/pkg` of `@scope/pkg/sub`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Every import `files` make that DESIGN.md's dependency direction does not allow. */
export function checkDependencyDirection(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const from = layerOf(file.path);
    if (from === undefined) {
      violations.push({ file: file.path, line: 1, message: 'is in no layer of DESIGN.md (add its folder to DEPENDENCY_RULES)' });
      continue;
    }
    for (const record of parseImports(file.text)) {
      const problem = checkImport(file.path, from, record);
      if (problem !== undefined) violations.push({ file: file.path, line: record.line, message: `imports ${record.specifier} (${problem})` });
    }
    if (from === 'rooms' && !isTestFile(file.path)) {
      const code = blankComments(file.text, true);
      for (const { pattern, what } of IMPURE_CALLS) {
        const global = new RegExp(pattern.source, 'g');
        for (const m of code.matchAll(global)) {
          violations.push({ file: file.path, line: lineAt(code, m.index), message: `uses ${what} (layer rooms is pure)` });
        }
      }
    }
  }
  return violations.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

function checkImport(filePath: string, from: Layer, record: ImportRecord): string | undefined {
  const spec = record.specifier;
  if (!spec.startsWith('.') && !spec.startsWith('/')) {
    const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
    if (spec.startsWith('node:') || BUILTINS.has(bare)) {
      if (from === 'rooms' && !isTestFile(filePath) && IMPURE_BUILTINS.has(bare)) {
        return `layer rooms is pure and may not import the I/O module node:${bare}`;
      }
      return undefined;
    }
    const pkg = packageName(spec);
    if (DATABASE_PACKAGES.includes(pkg) && !DATABASE_PACKAGE_LAYERS.has(from)) {
      return `layer ${from} may not import the database package ${pkg}; only ${[...DATABASE_PACKAGE_LAYERS].join(' and ')} may`;
    }
    return undefined;
  }
  if (spec.startsWith('/')) return 'absolute import paths are not allowed';
  const target = posix.normalize(posix.join(posix.dirname(filePath), spec));
  const to = layerOf(target);
  if (to === undefined) return `layer ${from} may not import ${target}, which is in no layer`;
  if (to === from) return undefined;
  const rules = DEPENDENCY_RULES[from];
  if (rules === 'anything') return undefined;
  if (from !== 'rooms') {
    const shared = SHARED_MODULES.find((m) => m.path === target);
    if (shared !== undefined && (shared.access === 'value' || record.typeOnly)) return undefined;
  }
  const access = rules[to];
  if (access === 'value' || (access === 'type' && record.typeOnly)) return undefined;
  if (access === 'type') return `layer ${from} may import layer ${to} only with import type`;
  return `layer ${from} may not import layer ${to}`;
}

/** Every `.ts` file under `dirs` (repo-relative), read from `repoRoot`. */
export function readSourceTree(repoRoot: string, dirs: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(repoRoot, relative), { withFileTypes: true })) {
      const child = posix.join(relative, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(child);
      } else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        files.push({ path: child, text: readFileSync(join(repoRoot, child), 'utf8') });
      }
    }
  };
  for (const dir of dirs) if (existsSync(join(repoRoot, dir))) walk(dir);
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
