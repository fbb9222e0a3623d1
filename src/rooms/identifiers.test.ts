// content/appendices.md "Identifier Grammar": tables of valid and invalid identifiers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isCompliantUserId,
  isValidEventId,
  isValidIpv6,
  isValidNamespacedId,
  isValidOpaqueId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseServerName,
  parseUserId,
  serverNameOf,
  utf8ByteLength,
} from './identifiers.ts';
import { roomVersionRules, type RoomVersionRules } from './room-versions.ts';

function rules(id: string): RoomVersionRules {
  const found = roomVersionRules(id);
  assert.ok(found);
  return found;
}

const HASH43 = 'Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
const HASH43_STANDARD = 'CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o';
const HASH43_WITH_PLUS = 'CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZ+rW/o';

describe('appendices "Server Name"', () => {
  const valid: Array<[string, string, 'ipv4' | 'ipv6' | 'dns', number | undefined]> = [
    // The spec's own examples.
    ['matrix.org', 'matrix.org', 'dns', undefined],
    ['matrix.org:8888', 'matrix.org', 'dns', 8888],
    ['1.2.3.4', '1.2.3.4', 'ipv4', undefined],
    ['1.2.3.4:1234', '1.2.3.4', 'ipv4', 1234],
    ['[1234:5678::abcd]', '[1234:5678::abcd]', 'ipv6', undefined],
    ['[1234:5678::abcd]:5678', '[1234:5678::abcd]', 'ipv6', 5678],
    // Edges.
    ['localhost', 'localhost', 'dns', undefined],
    ['MATRIX.ORG', 'MATRIX.ORG', 'dns', undefined],
    ['a-b.example', 'a-b.example', 'dns', undefined],
    ['x:0', 'x', 'dns', 0],
    ['x:65535', 'x', 'dns', 65535],
    ['x:00080', 'x', 'dns', 80],
    ['255.255.255.255', '255.255.255.255', 'ipv4', undefined],
    ['1.2.3', '1.2.3', 'dns', undefined],
    ['[::]', '[::]', 'ipv6', undefined],
    ['[::1]:8448', '[::1]', 'ipv6', 8448],
    ['[1:2:3:4:5:6:7:8]', '[1:2:3:4:5:6:7:8]', 'ipv6', undefined],
    ['[1:2:3:4:5:6:7::]', '[1:2:3:4:5:6:7::]', 'ipv6', undefined],
    ['[::ffff:192.0.2.1]', '[::ffff:192.0.2.1]', 'ipv6', undefined],
    ['[1:2:3:4:5:6:1.2.3.4]', '[1:2:3:4:5:6:1.2.3.4]', 'ipv6', undefined],
    ['[ABCD:ef01::]', '[ABCD:ef01::]', 'ipv6', undefined],
    [`${'a'.repeat(255)}`, 'a'.repeat(255), 'dns', undefined],
  ];
  for (const [name, host, kind, port] of valid) {
    it(`accepts ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…` : name)}`, () => {
      assert.deepEqual(parseServerName(name), { host, kind, port });
      assert.equal(isValidServerName(name), true);
    });
  }

  const invalid = [
    '',
    ':8448',
    'matrix.org:',
    'matrix.org:65536',
    'matrix.org:123456',
    'matrix.org:-1',
    'matrix.org:80a',
    'matrix.org:80:81',
    'matrix..org',
    '.matrix.org',
    'matrix.org.',
    'matrix_org',
    'matrix org',
    'mätrix.org',
    '1.2.3.256',
    '256.1.1.1',
    '1.2.3.1234',
    '[1234:5678::abcd',
    '1234:5678::abcd',
    '[]',
    '[:]',
    '[1:2:3:4:5:6:7:8:9]',
    '[1:2:3:4:5:6:7]',
    '[1::2::3]',
    '[12345::]',
    '[::g]',
    '[1:2:3:4:5:6:7:1.2.3.4]',
    '[::1.2.3.256]',
    '[:1::]',
    '[fe80::1%eth0]',
    '[::1]8448',
    '[::1]:',
    'a'.repeat(256),
  ];
  for (const name of invalid) {
    it(`rejects ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…` : name)}`, () => {
      assert.equal(parseServerName(name), undefined);
      assert.equal(isValidServerName(name), false);
    });
  }

  it('RFC 3513 IPv6 forms, without brackets', () => {
    assert.equal(isValidIpv6('1080:0:0:0:8:800:200C:417A'), true);
    assert.equal(isValidIpv6('1080::8:800:200C:417A'), true);
    assert.equal(isValidIpv6('FF01::101'), true);
    assert.equal(isValidIpv6('::13.1.68.3'), true);
    assert.equal(isValidIpv6('::FFFF:129.144.52.38'), true);
    assert.equal(isValidIpv6('1080:0:0:0:8:800:200C'), false);
    assert.equal(isValidIpv6('1.2.3.4'), false);
  });
});

describe('appendices "User Identifiers" and "Historical User IDs"', () => {
  const strictValid = ['@alice:example.org', '@a.b_c=d-e/f+g:example.org', '@0:1.2.3.4:8448', '@x:[::1]'];
  const historicalOnly = [
    '@Alice:example.org',
    '@:example.org',
    '@al ice:example.org',
    '@ünïcödé:example.org',
    '@\u0001ctrl:example.org',
    '@😀:example.org',
  ];
  const neverValid = [
    'alice:example.org',
    '@alice',
    '@alice:',
    '@alice:exa mple.org',
    '@alice:example.org:99999',
    '@nu\u0000l:example.org',
    '@lone\ud800:example.org',
    '#alice:example.org',
  ];

  for (const id of strictValid) {
    it(`accepts ${JSON.stringify(id)} in both grammars`, () => {
      assert.equal(isValidUserId(id, { historical: false }), true);
      assert.equal(isValidUserId(id, { historical: true }), true);
    });
  }
  for (const id of historicalOnly) {
    it(`accepts ${JSON.stringify(id)} only as a historical user ID`, () => {
      assert.equal(isValidUserId(id, { historical: false }), false);
      assert.equal(isValidUserId(id, { historical: true }), true);
    });
  }
  for (const id of neverValid) {
    it(`rejects ${JSON.stringify(id)}`, () => {
      assert.equal(isValidUserId(id, { historical: true }), false);
      assert.equal(isValidUserId(id, { historical: false }), false);
    });
  }

  it('the localpart ends at the first colon; the rest is the server name', () => {
    assert.deepEqual(parseUserId('@bob:example.org:8448', { historical: false }), {
      localpart: 'bob',
      serverName: 'example.org:8448',
    });
    assert.equal(serverNameOf('@bob:example.org:8448'), 'example.org:8448');
    assert.equal(serverNameOf('!room:[::1]:80'), '[::1]:80');
    assert.equal(serverNameOf('$abc'), undefined);
  });

  it('255 bytes of UTF-8 is the limit, counted in bytes not characters', () => {
    const server = ':example.org';
    const at255 = `@${'a'.repeat(255 - 1 - server.length)}${server}`;
    assert.equal(utf8ByteLength(at255), 255);
    assert.equal(isValidUserId(at255, { historical: false }), true);
    assert.equal(isValidUserId(`@a${at255.slice(1)}`, { historical: false }), false);
    // 'é' is two bytes: 121 of them plus sigil and server are 255 bytes, one more is 257.
    const twoByte = `@${'é'.repeat(121)}${server}`;
    assert.equal(utf8ByteLength(twoByte), 255);
    assert.equal(isValidUserId(twoByte, { historical: true }), true);
    assert.equal(isValidUserId(`@é${twoByte.slice(1)}`, { historical: true }), false);
  });

  it('compliance: localparts within U+0021–U+007E and non-empty', () => {
    assert.equal(isCompliantUserId('@Alice:example.org'), true);
    assert.equal(isCompliantUserId('@:example.org'), false);
    assert.equal(isCompliantUserId('@al ice:example.org'), false);
    assert.equal(isCompliantUserId('@é:example.org'), false);
  });

  it('utf8ByteLength counts surrogate pairs as 4 and lone surrogates as 3', () => {
    assert.equal(utf8ByteLength('a'), 1);
    assert.equal(utf8ByteLength('é'), 2);
    assert.equal(utf8ByteLength('€'), 3);
    assert.equal(utf8ByteLength('😀'), 4);
    assert.equal(utf8ByteLength('\ud800'), 3);
    assert.equal(utf8ByteLength('\ud800x'), 4);
  });
});

describe('appendices "Room IDs" per room version', () => {
  it('v1–v11: !opaque:server', () => {
    for (const version of ['1', '6', '11']) {
      const r = rules(version);
      assert.equal(isValidRoomId('!abc:example.org', r), true);
      assert.equal(isValidRoomId('!ÄÖ ü:example.org:8448', r), true);
      assert.equal(isValidRoomId('!:example.org', r), false);
      assert.equal(isValidRoomId('!abc', r), false);
      assert.equal(isValidRoomId('!abc:bad server', r), false);
      assert.equal(isValidRoomId('!a\u0000b:example.org', r), false);
      assert.equal(isValidRoomId(`!${HASH43}`, r), false);
      assert.equal(isValidRoomId('$abc:example.org', r), false);
    }
  });

  it('v12: ! and 43 URL-safe base64 characters', () => {
    const r = rules('12');
    assert.equal(isValidRoomId(`!${HASH43}`, r), true);
    assert.equal(isValidRoomId('!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ', r), true);
    assert.equal(isValidRoomId(`!${HASH43.slice(1)}`, r), false);
    assert.equal(isValidRoomId(`!${HASH43}A`, r), false);
    assert.equal(isValidRoomId(`!${HASH43_WITH_PLUS}`, r), false);
    assert.equal(isValidRoomId('!abc:example.org', r), false);
    assert.equal(isValidRoomId(`$${HASH43}`, r), false);
  });

  it('room IDs are limited to 255 bytes', () => {
    const r = rules('10');
    const server = ':example.org';
    const at255 = `!${'x'.repeat(255 - 1 - server.length)}${server}`;
    assert.equal(isValidRoomId(at255, r), true);
    assert.equal(isValidRoomId(`!x${at255.slice(1)}`, r), false);
  });
});

describe('appendices "Event IDs" and the room versions\' event ID formats', () => {
  it('v1–v2: $opaque:server', () => {
    for (const version of ['1', '2']) {
      const r = rules(version);
      assert.equal(isValidEventId('$a4ecee13e2accdadf56c1025:example.com', r), true);
      assert.equal(isValidEventId('$abc:example.com:8448', r), true);
      assert.equal(isValidEventId(`$${HASH43}`, r), false);
      assert.equal(isValidEventId('$:example.com', r), false);
      assert.equal(isValidEventId('abc:example.com', r), false);
    }
  });

  it('v3: standard unpadded base64', () => {
    const r = rules('3');
    assert.equal(isValidEventId(`$${HASH43_STANDARD}`, r), true);
    assert.equal(isValidEventId(`$${HASH43_WITH_PLUS}`, r), true);
    assert.equal(isValidEventId(`$${HASH43}`, r), false); // has - and _
    assert.equal(isValidEventId(`$${HASH43_STANDARD}=`, r), false);
    assert.equal(isValidEventId('$abc:example.com', r), false);
  });

  it('v4+: URL-safe unpadded base64', () => {
    for (const version of ['4', '10', '12']) {
      const r = rules(version);
      assert.equal(isValidEventId(`$${HASH43}`, r), true);
      assert.equal(isValidEventId(`$${HASH43_STANDARD}`, r), true); // no + or /: both alphabets
      assert.equal(isValidEventId(`$${HASH43_WITH_PLUS}`, r), false);
      assert.equal(isValidEventId(`$${HASH43.slice(2)}`, r), false);
      assert.equal(isValidEventId(`!${HASH43}`, r), false);
    }
  });
});

describe('appendices "Room Aliases", "Opaque Identifiers", "Common Namespaced Identifier Grammar"', () => {
  it('room aliases', () => {
    assert.equal(isValidRoomAlias('#room:example.org'), true);
    assert.equal(isValidRoomAlias('#Räum mit Leerzeichen:example.org:8448'), true);
    assert.equal(isValidRoomAlias('#:example.org'), false);
    assert.equal(isValidRoomAlias('#room'), false);
    assert.equal(isValidRoomAlias('room:example.org'), false);
    assert.equal(isValidRoomAlias('#ro\u0000om:example.org'), false);
    assert.equal(isValidRoomAlias(`#${'r'.repeat(242)}:example.org`), true);
    assert.equal(isValidRoomAlias(`#${'r'.repeat(243)}:example.org`), false);
  });

  it('opaque identifiers', () => {
    assert.equal(isValidOpaqueId('AbC-1.2_~'), true);
    assert.equal(isValidOpaqueId(''), false);
    assert.equal(isValidOpaqueId('a b'), false);
    assert.equal(isValidOpaqueId('a/b'), false);
    assert.equal(isValidOpaqueId('x'.repeat(255)), true);
    assert.equal(isValidOpaqueId('x'.repeat(256)), false);
    assert.equal(isValidOpaqueId('x'.repeat(33), 32), false);
  });

  it('namespaced identifiers', () => {
    assert.equal(isValidNamespacedId('m.login.password'), true);
    assert.equal(isValidNamespacedId('com.example-x_y.z9'), true);
    assert.equal(isValidNamespacedId('M.login'), false);
    assert.equal(isValidNamespacedId('9lives'), false);
    assert.equal(isValidNamespacedId(''), false);
    assert.equal(isValidNamespacedId(`a${'b'.repeat(255)}`), false);
  });
});
