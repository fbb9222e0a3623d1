// parsePdu: check 1 of content/server-server-api.md "Checks performed on receipt of a PDU",
// the event formats of data/api/server-server/definitions/pdu_v*.yaml, and the size limits
// of content/client-server-api/_index.md "Size limits".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../canonical-json.ts';
import { computeEventId } from '../event-id.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import type { PduErrorCode } from './errors.ts';
import { MAX_PDU_BYTES, MAX_RAW_PDU_TEXT_BYTES } from './limits.ts';
import { parsePdu, type ParsePduResult } from './parse.ts';
import { ALL_VERSIONS, HASH_A, rulesOf, sampleEdge, sampleEventId, samplePdu } from './testing.ts';

function expectError(result: ParsePduResult, code: PduErrorCode, field?: string): void {
  assert.equal(result.ok, false, 'expected a rejection');
  if (result.ok) return;
  assert.equal(result.error.code, code, result.error.message);
  if (field !== undefined) assert.equal(result.error.field, field);
  assert.equal(typeof result.error.message, 'string');
}

function expectOk(result: ParsePduResult): void {
  assert.equal(result.ok, true, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
}

function parseObject(version: string, overrides: Record<string, JsonValue | undefined> = {}): ParsePduResult {
  return parsePdu({ raw: samplePdu(version, overrides), roomVersion: version });
}

describe('parsePdu: well-formed PDUs of every room version', () => {
  for (const version of ALL_VERSIONS) {
    it(`v${version}: object and text forms parse to the same view`, () => {
      const json = samplePdu(version);
      const fromObject = parsePdu({ raw: json, roomVersion: version });
      const fromText = parsePdu({ raw: JSON.stringify(json, null, 2), roomVersion: version });
      assert.ok(fromObject.ok && fromText.ok);
      assert.equal(fromObject.pdu.eventId, fromText.pdu.eventId);
      const { view } = fromObject.pdu;
      const rules = rulesOf(version);
      assert.equal(view.type, 'm.room.message');
      assert.equal(view.sender, '@alice:example.org');
      assert.equal(view.depth, 12);
      assert.equal(view.stateKey, undefined);
      assert.deepEqual(view.prevEvents, [sampleEventId(rules, 1)]);
      assert.deepEqual(view.authEvents, [sampleEventId(rules, 2), sampleEventId(rules, 3)]);
      assert.equal(view.raw, json);
      assert.equal(fromObject.pdu.rules, rules);
    });
  }

  it('v1–v2 take the event ID from the event_id field (rooms/v1.md "Event IDs")', () => {
    for (const version of ['1', '2']) {
      const result = parseObject(version);
      assert.ok(result.ok);
      assert.equal(result.pdu.eventId, '$msg1:example.org');
    }
  });

  it('v3+ compute the event ID and ignore an event_id field (rooms/v3.md "Event IDs")', () => {
    for (const version of ['3', '4', '11', '12']) {
      const json = samplePdu(version, { event_id: '$whatever:example.org' });
      const result = parsePdu({ raw: json, roomVersion: version });
      assert.ok(result.ok);
      assert.equal(result.pdu.eventId, computeEventId(json, rulesOf(version)));
      assert.notEqual(result.pdu.eventId, '$whatever:example.org');
    }
  });

  it('v12: the create event has no room_id; other events need one (pdu_v12.yaml)', () => {
    const create = samplePdu('12', {
      room_id: undefined,
      type: 'm.room.create',
      state_key: '',
      content: { room_version: '12' },
      prev_events: [],
      auth_events: [],
    });
    const result = parsePdu({ raw: create, roomVersion: '12' });
    assert.ok(result.ok);
    assert.equal(result.pdu.view.roomId, undefined);
    expectError(parseObject('12', { room_id: undefined }), 'missing-field', 'room_id');
    // A create event that is not state (no state_key "") is not the create event.
    expectError(
      parseObject('12', { room_id: undefined, type: 'm.room.create', state_key: 'x' }),
      'missing-field',
      'room_id',
    );
    // v1–v11 create events need a room_id.
    expectError(
      parseObject('11', { room_id: undefined, type: 'm.room.create', state_key: '' }),
      'missing-field',
      'room_id',
    );
  });

  it('v12: a create event with a room_id is left for auth rule 1.2 to reject, not dropped', () => {
    expectOk(parseObject('12', { type: 'm.room.create', state_key: '', prev_events: [], auth_events: [] }));
  });

  it('"Historical User IDs" are accepted as senders', () => {
    expectOk(parseObject('12', { sender: '@Ålice Smith:example.org' }));
    expectOk(parseObject('5', { sender: '@:example.org' }));
  });

  it('redacts: top-level in v1–v10, content.redacts in v11+ (rooms/v11.md "Event format")', () => {
    const v10 = parseObject('10', { type: 'm.room.redaction', redacts: sampleEventId(rulesOf('10'), 9) });
    assert.ok(v10.ok);
    assert.equal(v10.pdu.view.redacts, sampleEventId(rulesOf('10'), 9));
    const v11 = parseObject('11', {
      type: 'm.room.redaction',
      redacts: 'ignored',
      content: { redacts: sampleEventId(rulesOf('11'), 9) },
    });
    assert.ok(v11.ok);
    assert.equal(v11.pdu.view.redacts, sampleEventId(rulesOf('11'), 9));
    // A top-level non-string redacts breaks the v1–v10 format only.
    expectError(parseObject('10', { redacts: 5 }), 'bad-field', 'redacts');
    expectOk(parseObject('11', { redacts: 5 }));
  });
});

describe('parsePdu: rejections', () => {
  it('unsupported room versions', () => {
    expectError(parsePdu({ raw: samplePdu('12'), roomVersion: '13' }), 'unsupported-version');
    expectError(parsePdu({ raw: samplePdu('12'), roomVersion: 'org.example.custom' }), 'unsupported-version');
  });

  it('text that is not JSON, or not an object', () => {
    expectError(parsePdu({ raw: '{', roomVersion: '12' }), 'not-json');
    expectError(parsePdu({ raw: '', roomVersion: '12' }), 'not-json');
    expectError(parsePdu({ raw: '{"a":1,"a":2}', roomVersion: '12' }), 'not-json');
    expectError(parsePdu({ raw: '{"a":"\\ud800"}', roomVersion: '12' }), 'not-json');
    expectError(parsePdu({ raw: '[]', roomVersion: '12' }), 'not-object');
    expectError(parsePdu({ raw: '"x"', roomVersion: '12' }), 'not-object');
    expectError(parsePdu({ raw: [] as unknown as JsonObject, roomVersion: '12' }), 'not-object');
    expectError(parsePdu({ raw: null as unknown as JsonObject, roomVersion: '12' }), 'not-object');
  });

  it('objects holding what JSON text cannot: lone surrogates, deep nesting, non-JSON values', () => {
    expectError(parseObject('12', { content: { body: 'a\udc00' } }), 'not-json', 'content');
    let deep: JsonValue = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    expectError(parseObject('12', { content: { deep } }), 'not-json', 'content');
    expectError(parseObject('3', { content: { n: Number.NaN } }), 'not-json', 'content');
    expectError(
      parseObject('3', { content: { f: (() => 1) as unknown as JsonValue } }),
      'not-json',
      'content',
    );
  });

  it('v6+ reject non-canonical numbers; v1–v5 accept them (rooms/v6.md "Canonical JSON")', () => {
    const withFloat = (version: string) =>
      JSON.stringify(samplePdu(version)).replace('"body":"hello"', '"body":"hello","n":1.5');
    const withOnePointZero = (version: string) => JSON.stringify(samplePdu(version)).replace('"depth":12', '"depth":12.0');
    for (const version of ['6', '7', '10', '11', '12']) {
      expectError(parsePdu({ raw: withFloat(version), roomVersion: version }), 'non-canonical');
      expectError(parsePdu({ raw: withOnePointZero(version), roomVersion: version }), 'non-canonical');
      expectError(parsePdu({ raw: JSON.stringify(samplePdu(version)).replace('"age":5', '"age":1e3'), roomVersion: version }), 'non-canonical');
      expectError(parseObject(version, { content: { n: 1.5 } }), 'non-canonical', 'content');
      expectError(parseObject(version, { content: { n: 2 ** 53 } }), 'non-canonical', 'content');
      expectError(parseObject(version, { content: { n: -0 } }), 'non-canonical', 'content');
      expectError(parsePdu({ raw: JSON.stringify(samplePdu(version)).replace('"age":5', '"age":-0'), roomVersion: version }), 'non-canonical');
      // Broken JSON stays not-json even where a number is also non-canonical.
      expectError(parsePdu({ raw: withFloat(version).slice(0, -1), roomVersion: version }), 'not-json');
    }
    for (const version of ['1', '3', '4', '5']) {
      expectOk(parsePdu({ raw: withFloat(version), roomVersion: version }));
      // `12.0` is the integer 12 once parsed: valid in v1–v5.
      expectOk(parsePdu({ raw: withOnePointZero(version), roomVersion: version }));
      expectOk(parseObject(version, { content: { n: 1.5 } }));
    }
  });

  it('size limit: exactly 65,536 bytes of canonical JSON passes, one more byte fails', () => {
    for (const version of ['2', '6', '12']) {
      const base = samplePdu(version, { content: { body: '' } });
      const overhead = new TextEncoder().encode(canonicalJson(base)).length;
      const atLimit = samplePdu(version, { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead) } });
      assert.equal(new TextEncoder().encode(canonicalJson(atLimit)).length, MAX_PDU_BYTES);
      expectOk(parsePdu({ raw: atLimit, roomVersion: version }));
      expectOk(parsePdu({ raw: JSON.stringify(atLimit), roomVersion: version }));
      const over = samplePdu(version, { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead + 1) } });
      expectError(parsePdu({ raw: over, roomVersion: version }), 'too-large');
      expectError(parsePdu({ raw: JSON.stringify(over), roomVersion: version }), 'too-large');
      // Multi-byte characters count in bytes: 'é' is 2.
      const multiByte = samplePdu(version, {
        content: { body: 'é'.repeat(Math.ceil((MAX_PDU_BYTES - overhead + 1) / 2)) },
      });
      expectError(parsePdu({ raw: multiByte, roomVersion: version }), 'too-large');
    }
  });

  it('size limit counts signatures and unsigned, and whitespace in text does not count', () => {
    const base = samplePdu('12', { content: { body: '' } });
    const overhead = new TextEncoder().encode(canonicalJson(base)).length;
    const nearLimit = samplePdu('12', { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead - 5) } });
    expectOk(parsePdu({ raw: nearLimit, roomVersion: '12' }));
    expectError(
      parsePdu({ raw: { ...nearLimit, unsigned: { age: 5, note: 'abcdefgh' } }, roomVersion: '12' }),
      'too-large',
    );
    expectOk(parsePdu({ raw: JSON.stringify(nearLimit, null, 8), roomVersion: '12' }));
  });

  it('raw text beyond the parse guard is refused before parsing', () => {
    const huge = `{"pad":"${' '.repeat(MAX_RAW_PDU_TEXT_BYTES)}"}`;
    expectError(parsePdu({ raw: huge, roomVersion: '12' }), 'too-large');
  });

  const requiredEverywhere = [
    'type',
    'sender',
    'room_id',
    'origin_server_ts',
    'depth',
    'content',
    'prev_events',
    'auth_events',
    'hashes',
    'signatures',
  ];
  for (const field of requiredEverywhere) {
    it(`missing ${field} (pdu_base.yaml, room_id_*.yaml, auth_events_prev_events_v4.yaml)`, () => {
      for (const version of ALL_VERSIONS) {
        expectError(parseObject(version, { [field]: undefined }), 'missing-field', field);
      }
    });
  }

  it('missing event_id in v1–v2 only (pdu_v1.yaml)', () => {
    expectError(parseObject('1', { event_id: undefined }), 'missing-field', 'event_id');
    expectError(parseObject('2', { event_id: undefined }), 'missing-field', 'event_id');
    expectOk(parseObject('3', { event_id: undefined }));
  });

  const badFields: Array<[string, JsonValue]> = [
    ['type', 5],
    ['type', null],
    ['state_key', 0],
    ['state_key', null],
    ['sender', ['@alice:example.org']],
    ['room_id', {}],
    ['origin_server_ts', '1700000000000'],
    ['origin_server_ts', 17.5],
    ['origin_server_ts', true],
    ['depth', -1],
    ['depth', '12'],
    ['depth', 1.5],
    ['depth', 2 ** 53],
    ['content', []],
    ['content', 'text'],
    ['content', null],
    ['prev_events', {}],
    ['auth_events', 'x'],
    ['prev_events', [5]],
    ['hashes', 'x'],
    ['hashes', {}],
    ['hashes', { sha256: 5 }],
    ['signatures', []],
    ['signatures', { 'example.org': 'sig' }],
    ['signatures', { 'example.org': { 'ed25519:a': 5 } }],
    ['unsigned', 'x'],
    ['unsigned', null],
  ];
  for (const [field, value] of badFields) {
    it(`bad ${field}: ${JSON.stringify(value)}`, () => {
      // Fractions make v6+ fail canonical JSON first; check them where that does not apply.
      const versions = typeof value === 'number' && !Number.isSafeInteger(value) ? ['1', '3', '5'] : ALL_VERSIONS;
      for (const version of versions) {
        const result = parseObject(version, { [field]: value });
        assert.equal(result.ok, false, `v${version}`);
        if (!result.ok) {
          assert.ok(['bad-field', 'bad-identifier'].includes(result.error.code), result.error.code);
          assert.equal(result.error.field, field);
        }
      }
    });
  }

  it('depth: 0 and 2^53 - 1 are within range', () => {
    expectOk(parseObject('12', { depth: 0 }));
    expectOk(parseObject('12', { depth: Number.MAX_SAFE_INTEGER }));
    expectOk(parseObject('4', { depth: Number.MAX_SAFE_INTEGER }));
  });

  it('v1–v2 edges are [event_id, hashes] pairs; v3+ edges are event IDs (rooms/v3.md "Event format")', () => {
    const v1 = rulesOf('1');
    const v4 = rulesOf('4');
    expectError(parseObject('1', { prev_events: [sampleEventId(v1, 1)] }), 'bad-field', 'prev_events');
    expectError(parseObject('1', { prev_events: [[sampleEventId(v1, 1)]] }), 'bad-field', 'prev_events');
    expectError(
      parseObject('1', { prev_events: [[sampleEventId(v1, 1), { sha256: 'x' }, 'extra']] }),
      'bad-field',
      'prev_events',
    );
    expectError(parseObject('1', { auth_events: [[sampleEventId(v1, 1), 'hash']] }), 'bad-field', 'auth_events');
    expectError(parseObject('1', { auth_events: [[5, { sha256: 'x' }]] }), 'bad-field', 'auth_events');
    expectOk(parseObject('1', { prev_events: [[sampleEventId(v1, 1), {}]] }));
    expectError(parseObject('4', { prev_events: [sampleEdge(v1, 1)] }), 'bad-field', 'prev_events');
    expectError(parseObject('4', { auth_events: [[sampleEventId(v4, 1), { sha256: 'x' }]] }), 'bad-field', 'auth_events');
  });

  it('edge event IDs follow the version\'s event ID format', () => {
    expectError(parseObject('4', { prev_events: ['$abc:example.org'] }), 'bad-identifier', 'prev_events');
    expectError(parseObject('4', { auth_events: [`$${HASH_A.slice(0, 41)}+/`] }), 'bad-identifier', 'auth_events');
    expectOk(parseObject('3', { auth_events: [`$${HASH_A.slice(0, 41)}+/`] }));
    expectError(parseObject('1', { prev_events: [[`$${HASH_A}`, {}]] }), 'bad-identifier', 'prev_events');
  });

  it('too many edges: 20 prev_events and 10 auth_events at most', () => {
    for (const version of ['1', '3', '12']) {
      const rules = rulesOf(version);
      const edges = (n: number) => Array.from({ length: n }, (_, i) => sampleEdge(rules, i));
      expectOk(parseObject(version, { prev_events: edges(20), auth_events: edges(10) }));
      expectError(parseObject(version, { prev_events: edges(21) }), 'too-many-edges', 'prev_events');
      expectError(parseObject(version, { auth_events: edges(11) }), 'too-many-edges', 'auth_events');
    }
  });

  it('identifiers: sender, room_id and event_id grammars per version', () => {
    expectError(parseObject('12', { sender: 'alice' }), 'bad-identifier', 'sender');
    expectError(parseObject('12', { sender: '@alice' }), 'bad-identifier', 'sender');
    expectError(parseObject('12', { sender: '@alice:bad_server' }), 'bad-identifier', 'sender');
    expectError(parseObject('12', { room_id: '!room:example.org' }), 'bad-identifier', 'room_id');
    expectError(parseObject('11', { room_id: `!${HASH_A}` }), 'bad-identifier', 'room_id');
    expectError(parseObject('11', { room_id: '#room:example.org' }), 'bad-identifier', 'room_id');
    expectError(parseObject('1', { event_id: `$${HASH_A}` }), 'bad-identifier', 'event_id');
    expectError(parseObject('2', { event_id: 5 }), 'bad-field', 'event_id');
  });

  it('byte limits: type and state_key 255 bytes, identifiers 255 bytes ("Size limits")', () => {
    expectOk(parseObject('12', { type: 't'.repeat(255), state_key: 's'.repeat(255) }));
    expectOk(parseObject('12', { state_key: 'é'.repeat(127) }));
    expectError(parseObject('12', { type: 't'.repeat(256) }), 'too-long', 'type');
    expectError(parseObject('12', { state_key: 's'.repeat(256) }), 'too-long', 'state_key');
    expectError(parseObject('12', { state_key: 'é'.repeat(128) }), 'too-long', 'state_key');
    const server = ':example.org';
    expectOk(parseObject('12', { sender: `@${'a'.repeat(255 - 1 - server.length)}${server}` }));
    expectError(parseObject('12', { sender: `@${'a'.repeat(256 - 1 - server.length)}${server}` }), 'too-long', 'sender');
    expectError(parseObject('11', { room_id: `!${'r'.repeat(256 - 1 - server.length)}${server}` }), 'too-long', 'room_id');
    expectError(parseObject('1', { event_id: `$${'e'.repeat(256 - 1 - server.length)}${server}` }), 'too-long', 'event_id');
    expectError(
      parseObject('2', { prev_events: [[`$${'e'.repeat(256 - 1 - server.length)}${server}`, {}]] }),
      'too-long',
      'prev_events',
    );
  });
});

describe('parsePdu: random input never throws, only typed rejections (fast-check)', () => {
  const codes: readonly PduErrorCode[] = [
    'unsupported-version',
    'too-large',
    'not-json',
    'not-object',
    'non-canonical',
    'missing-field',
    'bad-field',
    'bad-identifier',
    'too-long',
    'too-many-edges',
  ];
  const versionArb = fc.constantFrom(...ALL_VERSIONS);

  function assertTyped(result: ParsePduResult): void {
    if (!result.ok) {
      // `unprocessable` means a failure no check anticipated: a bug for these inputs.
      assert.ok(codes.includes(result.error.code), `${result.error.code}: ${result.error.message}`);
      assert.equal(typeof result.error.message, 'string');
    }
  }

  it('random JSON values and texts', () => {
    fc.assert(
      fc.property(fc.jsonValue(), versionArb, (value, version) => {
        assertTyped(parsePdu({ raw: value as JsonObject, roomVersion: version }));
        assertTyped(parsePdu({ raw: JSON.stringify(value) ?? 'null', roomVersion: version }));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string(), versionArb, (text, version) => {
        assertTyped(parsePdu({ raw: text, roomVersion: version }));
      }),
      { numRuns: 300 },
    );
  });

  const fields = [
    'room_id', 'type', 'state_key', 'sender', 'origin_server_ts', 'depth', 'content', 'prev_events',
    'auth_events', 'hashes', 'signatures', 'unsigned', 'redacts', 'event_id',
  ];

  it('a valid PDU with fields replaced, removed or added', () => {
    const mutation = fc.record({
      field: fc.constantFrom(...fields, '__proto__', 'constructor', 'extra'),
      value: fc.option(fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double()), { nil: undefined }),
    });
    fc.assert(
      fc.property(versionArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (version, mutations) => {
        const pdu = samplePdu(version);
        for (const { field, value } of mutations) {
          if (value === undefined) delete pdu[field];
          else Object.defineProperty(pdu, field, { value: value as JsonValue, enumerable: true, writable: true, configurable: true });
        }
        assertTyped(parsePdu({ raw: pdu, roomVersion: version }));
        assertTyped(parsePdu({ raw: JSON.stringify(pdu), roomVersion: version }));
      }),
      { numRuns: 1000 },
    );
  });

  it('a valid PDU\'s text with characters inserted or deleted', () => {
    fc.assert(
      fc.property(
        versionArb,
        fc.array(fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: fc.string({ maxLength: 3 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        (version, edits) => {
          let text = JSON.stringify(samplePdu(version));
          for (const { at, remove, insert } of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + remove);
          }
          assertTyped(parsePdu({ raw: text, roomVersion: version }));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
