// Canonical JSON (content/appendices.md § "Canonical JSON") and a strict parser for JSON
// received from clients and peers.
//
// Why a hand-written parser: `JSON.parse` silently changes what it reads (`1.0` → `1`,
// `1e3` → `1000`, the last of two duplicate keys wins), so whether a PDU was canonical
// (rooms v6+ MUST reject it otherwise) can only be decided on the raw text.

import type { JsonObject, JsonValue } from './json.ts';

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
  /** Dotted path of the offending value, e.g. `content.count`. */
  readonly path: string;
  constructor(message: string, path: string) {
    super(path === '' ? message : `${message} at ${path}`);
    this.path = path;
  }
}

export class JsonParseError extends Error {
  override name = 'JsonParseError';
  /** Offset (in UTF-16 code units) into the parsed text. */
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.position = position;
  }
}

/** Largest integer the spec allows, 2^53 − 1 (and its negation). */
export const MAX_SAFE_JSON_INTEGER = Number.MAX_SAFE_INTEGER;
/** Nesting deeper than this is refused by the parser and the encoder. */
export const DEFAULT_MAX_DEPTH = 100;

// ---------------------------------------------------------------------------------------
// Encoding

/**
 * Orders strings by Unicode code point. JavaScript's `<` compares UTF-16 code units, which
 * puts an astral character (a surrogate pair, 0xD800–0xDBFF lead unit) before U+E000–U+FFFF;
 * code-point order puts it after. Shifting the units above 0xD7FF fixes exactly that case.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Where the encoder is, as keys and indexes; turned into a string only for an error. */
type Path = (string | number)[];

function pathText(path: Path): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  }
  return text;
}

function fail(message: string, path: Path): never {
  throw new CanonicalJsonError(message, pathText(path));
}

function encodeString(text: string, path: Path): string {
  // A lone surrogate has no UTF-8 encoding: TextEncoder would turn it into U+FFFD, so two
  // different values would hash alike. Refuse it instead.
  if (!text.isWellFormed()) fail('string contains a lone surrogate', path);
  // For well-formed strings JSON.stringify emits exactly the appendix grammar: `\"`, `\\`,
  // `\b \f \n \r \t`, `\u00xx` (lower-case hex) for other controls, everything else raw.
  return JSON.stringify(text);
}

function encodeValue(value: unknown, path: Path, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isInteger(value)) fail(`number ${String(value)} is not an integer`, path);
      if (!Number.isSafeInteger(value)) fail(`integer ${String(value)} is outside ±(2^53−1)`, path);
      // String(-0) is "0", as the appendix's last example requires.
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (path.length >= DEFAULT_MAX_DEPTH) fail(`nesting deeper than ${DEFAULT_MAX_DEPTH}`, path);
      if (seen.has(value)) fail('cyclic structure', path);
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          path.push(i);
          if (item === undefined) fail('undefined is not JSON', path);
          out += (i === 0 ? '' : ',') + encodeValue(item, path, seen);
          path.pop();
        }
        out += ']';
      } else {
        if (!isPlainObject(value)) fail(`${value.constructor?.name ?? 'object'} is not JSON`, path);
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record).sort(compareCodePoints);
        out = '{';
        let first = true;
        for (const key of keys) {
          const member = record[key];
          // Like JSON.stringify (what goes on the wire), an undefined member is absent.
          if (member === undefined) continue;
          path.push(key);
          out += (first ? '' : ',') + encodeString(key, path) + ':' + encodeValue(member, path, seen);
          path.pop();
          first = false;
        }
        out += '}';
      }
      seen.delete(value);
      return out;
    }
    default:
      return fail(`${typeof value} is not JSON`, path);
  }
}

/** The canonical JSON text of `value`; throws `CanonicalJsonError` for anything not allowed. */
export function canonicalJson(value: unknown): string {
  return encodeValue(value, [], new Set());
}

const utf8 = new TextEncoder();

/** The canonical JSON of `value` as UTF-8 bytes: what is hashed and signed. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return utf8.encode(canonicalJson(value));
}

// ---------------------------------------------------------------------------------------
// Strict parsing

export interface ParseOptions {
  /**
   * Reject numbers that canonical JSON forbids: fractions, exponents, `-0`, and integers
   * outside ±(2^53−1). Required for PDUs in rooms v6+ and for client request bodies.
   */
  strictNumbers?: boolean;
  /** Maximum nesting of arrays and objects (default 100). */
  maxDepth?: number;
}

const CHAR_QUOTE = 0x22;
const CHAR_BACKSLASH = 0x5c;

class Parser {
  readonly text: string;
  readonly strictNumbers: boolean;
  readonly maxDepth: number;
  pos = 0;

  constructor(text: string, options: ParseOptions) {
    this.text = text;
    this.strictNumbers = options.strictNumbers ?? false;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  fail(message: string, at: number = this.pos): never {
    throw new JsonParseError(message, at);
  }

  skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      // RFC 8259 whitespace only: space, tab, LF, CR.
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
    this.pos = pos;
  }

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  parseValue(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth + 1);
      case 0x5b: // [
        return this.parseArray(depth + 1);
      case CHAR_QUOTE:
        return this.parseString();
      case 0x74: // t
        return this.parseLiteral('true', true);
      case 0x66: // f
        return this.parseLiteral('false', false);
      case 0x6e: // n
        return this.parseLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        if (Number.isNaN(c)) this.fail('unexpected end of input');
        return this.fail(`unexpected character ${JSON.stringify(this.text[this.pos])}`);
    }
  }

  parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  parseObject(depth: number): JsonObject {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.pos++; // {
    const result: JsonObject = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      const keyAt = this.pos;
      if (this.text.charCodeAt(this.pos) !== CHAR_QUOTE) this.fail('expected a string key');
      const key = this.parseString();
      if (Object.prototype.hasOwnProperty.call(result, key)) {
        this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue(depth);
      if (key === '__proto__') {
        // A plain assignment would set the prototype; JSON.parse makes an own property.
        Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        result[key] = value;
      }
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return result;
      }
      this.fail("expected ',' or '}'");
    }
  }

  parseArray(depth: number): JsonValue[] {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.pos++; // [
    const result: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      result.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return result;
      }
      this.fail("expected ',' or ']'");
    }
  }

  parseString(): string {
    const text = this.text;
    const start = this.pos + 1; // after the opening quote
    let pos = start;
    // Fast path: no escapes.
    for (;;) {
      if (pos >= text.length) this.fail('unterminated string', start - 1);
      const c = text.charCodeAt(pos);
      if (c === CHAR_QUOTE) {
        const value = text.slice(start, pos);
        this.pos = pos + 1;
        return this.checkWellFormed(value, start);
      }
      if (c === CHAR_BACKSLASH) break;
      if (c < 0x20) this.fail('control character in string', pos);
      pos++;
    }
    let out = text.slice(start, pos);
    for (;;) {
      if (pos >= text.length) this.fail('unterminated string', start - 1);
      const c = text.charCodeAt(pos);
      if (c === CHAR_QUOTE) {
        this.pos = pos + 1;
        return this.checkWellFormed(out, start);
      }
      if (c < 0x20) this.fail('control character in string', pos);
      if (c !== CHAR_BACKSLASH) {
        out += text[pos];
        pos++;
        continue;
      }
      const escape = text[pos + 1];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape', pos);
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
          continue;
        }
        default:
          this.fail('invalid escape', pos);
      }
      pos += 2;
    }
  }

  checkWellFormed(value: string, at: number): string {
    // Lone surrogates (from `\ud800` escapes or a broken decoder) cannot be re-encoded as
    // UTF-8, so such a value can never be hashed or signed consistently.
    if (!value.isWellFormed()) this.fail('string contains a lone surrogate', at);
    return value;
  }

  parseNumber(): number {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === 0x2d) pos++;
    const first = text.charCodeAt(pos);
    if (first === 0x30) {
      pos++;
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else {
      this.fail('invalid number', start);
    }
    if (isDigit(text.charCodeAt(pos))) this.fail('leading zero in number', start);
    let integral = true;
    if (text.charCodeAt(pos) === 0x2e) {
      integral = false;
      pos++;
      if (!isDigit(text.charCodeAt(pos))) this.fail('invalid fraction', start);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      integral = false;
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === 0x2b || sign === 0x2d) pos++;
      if (!isDigit(text.charCodeAt(pos))) this.fail('invalid exponent', start);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    this.pos = pos;
    const literal = text.slice(start, pos);
    const value = Number(literal);
    if (this.strictNumbers) {
      if (!integral) this.fail(`number ${literal} is not an integer literal`, start);
      // Any literal beyond 2^53 − 1 in magnitude rounds to at least 2^53, which is unsafe.
      if (!Number.isSafeInteger(value)) this.fail(`integer ${literal} is outside ±(2^53−1)`, start);
      if (Object.is(value, -0)) this.fail('-0 is not allowed', start);
    }
    return value;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parse JSON text, refusing duplicate keys, lone surrogates and nesting beyond
 * `maxDepth`; with `strictNumbers`, also anything canonical JSON forbids in numbers.
 * Throws `JsonParseError` and nothing else.
 */
export function parseJsonStrict(text: string, options: ParseOptions = {}): JsonValue {
  if (typeof text !== 'string') throw new JsonParseError('input is not text', 0);
  try {
    return new Parser(text, options).parseDocument();
  } catch (error) {
    // Only reachable with a caller-chosen maxDepth beyond what the call stack holds.
    if (error instanceof RangeError) throw new JsonParseError('nesting too deep', 0);
    throw error;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** As `parseJsonStrict`, from UTF-8 bytes; invalid UTF-8 is a `JsonParseError`. */
export function parseJsonBytes(bytes: Uint8Array, options: ParseOptions = {}): JsonValue {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new JsonParseError('invalid UTF-8', 0);
  }
  return parseJsonStrict(text, options);
}

/** Whether `text` is exactly the canonical JSON encoding of the value it holds. */
export function isCanonicalJsonText(text: string): boolean {
  try {
    return canonicalJson(parseJsonStrict(text, { strictNumbers: true })) === text;
  } catch (error) {
    if (error instanceof JsonParseError || error instanceof CanonicalJsonError) return false;
    throw error;
  }
}
