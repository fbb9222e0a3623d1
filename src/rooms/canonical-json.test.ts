import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canonicalJson,
  canonicalJsonBytes,
  CanonicalJsonError,
  compareCodePoints,
  isCanonicalJsonText,
  JsonParseError,
  parseJsonBytes,
  parseJsonStrict,
} from './canonical-json.ts';
import { getField, isJsonObject } from './json.ts';

// content/appendices.md § "Canonical JSON" › "Examples": every published example, as raw text
// parsed by our parser and then encoded.
const appendixExamples: [input: string, expected: string][] = [
  ['{}', '{}'],
  ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
  ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
  ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
  [
    `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                { "medium": "email", "address": "john.doe@example.org" },
                { "medium": "msisdn", "address": "123456789" }
            ]
        }
    }
}`,
    '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
  ],
  ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
  ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
  ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
  ['{\n    "a": null\n}', '{"a":null}'],
  ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
];

for (const [input, expected] of appendixExamples) {
  test(`appendix Canonical JSON example → ${expected}`, () => {
    assert.equal(canonicalJson(parseJsonStrict(input)), expected);
    assert.equal(canonicalJson(JSON.parse(input)), expected);
  });
}

test('Canonical JSON: keys sort by code point, not UTF-16 code unit', () => {
  // U+1F600 is the surrogate pair D83D DE00, which sorts below U+FF01 by code unit.
  assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFF01': 2 }), '{"！":2,"😀":1}');
  assert.equal(canonicalJson({ '\u{1F600}': 1, '\uE000': 2 }), '{"\uE000":2,"😀":1}');
  assert.equal(canonicalJson({ b: 1, a: 2, '': 3, ab: 4 }), '{"":3,"a":2,"ab":4,"b":1}');
  assert.ok(compareCodePoints('\u{10000}', '\uFFFF') > 0);
  assert.ok(compareCodePoints('\uD7FF', '\u{10000}') < 0);
  assert.ok(compareCodePoints('a\u{1F600}', 'a\uE000') > 0);
});

test('Canonical JSON grammar: only the required escapes, non-ASCII raw', () => {
  assert.equal(canonicalJson('"\\'), '"\\"\\\\"');
  assert.equal(canonicalJson('\b\t\n\f\r'), '"\\b\\t\\n\\f\\r"');
  assert.equal(canonicalJson('\u0000\u0001\u000b\u001f'), '"\\u0000\\u0001\\u000b\\u001f"');
  assert.equal(canonicalJson('/\u007f\u2028\u00e9'), '"/\u007f\u2028\u00e9"');
  assert.equal(canonicalJson('\u{1F600}'), '"\u{1F600}"');
  assert.deepEqual(canonicalJsonBytes({ a: 'é' }), new TextEncoder().encode('{"a":"é"}'));
});

test('Canonical JSON: numbers are integers within ±(2^53−1)', () => {
  assert.equal(canonicalJson([9007199254740991, -9007199254740991, 0, -0]), '[9007199254740991,-9007199254740991,0,0]');
  for (const bad of [1.5, 9007199254740992, -9007199254740992, NaN, Infinity, -Infinity, 1e300]) {
    assert.throws(() => canonicalJson({ n: bad }), CanonicalJsonError, String(bad));
  }
});

test('CanonicalJsonError names where the bad value is', () => {
  assert.throws(() => canonicalJson({ content: { list: [1, { n: 0.5 }] } }), (error: unknown) => {
    return error instanceof CanonicalJsonError && error.path === 'content.list[1].n';
  });
  assert.throws(() => canonicalJson(1.5), (error: unknown) => error instanceof CanonicalJsonError && error.path === '');
});

test('Canonical JSON: non-JSON values are refused', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  for (const bad of [undefined, () => 1, Symbol('x'), 1n, new Date(0), new Map(), new Uint8Array(1), cyclic, [undefined], '\uD800', { '\uDC00': 1 }]) {
    assert.throws(() => canonicalJson(bad), CanonicalJsonError);
  }
  let deep: unknown = 1;
  for (let i = 0; i < 101; i++) deep = [deep];
  assert.throws(() => canonicalJson(deep), CanonicalJsonError);
  // An undefined member is absent, as JSON.stringify (the wire) has it.
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  // Shared (non-cyclic) references are fine.
  const shared = { x: 1 };
  assert.equal(canonicalJson([shared, shared]), '[{"x":1},{"x":1}]');
  assert.equal(canonicalJson(Object.assign(Object.create(null) as object, { z: 1 })), '{"z":1}');
});

test('parseJsonStrict: strictNumbers rejects floats, exponents, -0 and unsafe integers (rooms v6+)', () => {
  for (const text of ['1.0', '1e3', '1E3', '-1.5', '0.0', '1e-3', '-0', '9007199254740992', '-9007199254740992', '123456789012345678901234567890']) {
    assert.throws(() => parseJsonStrict(`{"n":${text}}`, { strictNumbers: true }), JsonParseError, text);
    assert.doesNotThrow(() => parseJsonStrict(`{"n":${text}}`), text);
  }
  assert.deepEqual(parseJsonStrict('[9007199254740991,-9007199254740991,0]', { strictNumbers: true }), [
    9007199254740991, -9007199254740991, 0,
  ]);
  // Lenient mode reads numbers like JSON.parse does (rooms v1–v5 may carry such values).
  assert.deepEqual(parseJsonStrict('[1.0,1e3,-0.5]'), [1, 1000, -0.5]);
});

test('parseJsonStrict: always rejects duplicate keys, invalid JSON, lone surrogates, deep nesting', () => {
  const bad = [
    '{"a":1,"a":2}',
    '{"a":{"b":1,"b":1}}',
    '',
    ' ',
    '{',
    '{"a":1,}',
    '[1,]',
    '01',
    '-',
    '1.',
    '.5',
    '+1',
    '1e',
    'NaN',
    'Infinity',
    'tru',
    'nul',
    '"abc',
    '"\\x"',
    '"\\u12"',
    '"\\ud800"',
    '"\\udc00x"',
    '"a\nb"',
    "{'a':1}",
    '{a:1}',
    '[1] [2]',
    '\uFEFF{}',
    '{"a" 1}',
    '[1 2]',
  ];
  for (const text of bad) {
    assert.throws(() => parseJsonStrict(text), JsonParseError, JSON.stringify(text));
  }
  let deep = '1';
  for (let i = 0; i < 101; i++) deep = `[${deep}]`;
  assert.throws(() => parseJsonStrict(deep), JsonParseError);
  let ok = '1';
  for (let i = 0; i < 100; i++) ok = `{"a":${ok}}`;
  assert.doesNotThrow(() => parseJsonStrict(ok));
  assert.throws(() => parseJsonStrict('[[1]]', { maxDepth: 1 }), JsonParseError);
  assert.throws(() => parseJsonStrict('['.repeat(1_000_000), { maxDepth: Infinity }), JsonParseError);
  assert.throws(() => parseJsonStrict(undefined as unknown as string), JsonParseError);
});

test('parseJsonStrict: reads valid JSON as JSON.parse does', () => {
  const samples = [
    ' {"a" : [1, -2, true, false, null, "x\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"], "b": {}} ',
    '"plain"',
    '[]',
    '0',
    '-12',
    '{"__proto__":{"polluted":1},"constructor":2}',
    '"日本語 \u{1F600}"',
  ];
  for (const text of samples) {
    assert.deepEqual(parseJsonStrict(text), JSON.parse(text), text);
  }
  const withProto = parseJsonStrict('{"__proto__":{"x":1}}');
  assert.ok(isJsonObject(withProto));
  assert.equal(Object.getPrototypeOf(withProto), Object.prototype);
  assert.deepEqual(getField(withProto, '__proto__'), { x: 1 });
  assert.equal(canonicalJson(withProto), '{"__proto__":{"x":1}}');
});

test('parseJsonBytes: invalid UTF-8 is a JsonParseError', () => {
  assert.deepEqual(parseJsonBytes(new TextEncoder().encode('{"a":"é"}')), { a: 'é' });
  assert.throws(() => parseJsonBytes(new Uint8Array([0x22, 0xc3, 0x28, 0x22])), JsonParseError);
});

test('isCanonicalJsonText', () => {
  assert.equal(isCanonicalJsonText('{"a":1,"b":[true,null]}'), true);
  assert.equal(isCanonicalJsonText('{"b":1,"a":2}'), false);
  assert.equal(isCanonicalJsonText('{"a": 1}'), false);
  assert.equal(isCanonicalJsonText('{"a":1.0}'), false);
  assert.equal(isCanonicalJsonText('"\\u00e9"'), false);
  assert.equal(isCanonicalJsonText('"é"'), true);
  assert.equal(isCanonicalJsonText('not json'), false);
});

// Property tests: JSON values as canonical JSON allows them.
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

test('Canonical JSON property: stable under a parse round trip, keys in code-point order', () => {
  fc.assert(
    fc.property(jsonValue, (value) => {
      const text = canonicalJson(value);
      assert.equal(canonicalJson(JSON.parse(text)), text);
      assert.equal(canonicalJson(parseJsonStrict(text, { strictNumbers: true })), text);
      assert.equal(isCanonicalJsonText(text), true);
      checkKeyOrder(JSON.parse(text), text);
    }),
    { numRuns: 300 },
  );
});

function checkKeyOrder(value: unknown, context: string): void {
  if (Array.isArray(value)) {
    for (const item of value) checkKeyOrder(item, context);
  } else if (typeof value === 'object' && value !== null) {
    // JSON.parse keeps insertion order except for integer-like keys, so recover the order
    // from the text instead: the keys as [...] sorted by code point, compared with Array.from.
    const keys = Object.keys(value);
    const byCodePoint = [...keys].sort((a, b) => {
      const x = Array.from(a, (c) => c.codePointAt(0)!);
      const y = Array.from(b, (c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    });
    const encoded = `{${byCodePoint.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    assert.ok(context.includes(encoded), 'object keys are emitted in code-point order');
    for (const key of keys) checkKeyOrder((value as Record<string, unknown>)[key], context);
  }
}

test('parseJsonStrict property: arbitrary text fails only with JsonParseError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1)))), (text) => {
      try {
        parseJsonStrict(text, { strictNumbers: true });
      } catch (error) {
        assert.ok(error instanceof JsonParseError, String(error));
      }
    }),
    { numRuns: 1000 },
  );
});

test('parseJsonStrict property: agrees with JSON.parse on valid JSON without duplicate keys', () => {
  fc.assert(
    fc.property(fc.json(), (text) => {
      const expected: unknown = JSON.parse(text);
      assert.deepEqual(parseJsonStrict(text), expected);
    }),
    { numRuns: 500 },
  );
});
