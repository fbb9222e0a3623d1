import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatSigningKeyFile,
  generateSigningKey,
  loadOrCreateSigningKey,
  parseSigningKeyFile,
  SigningKeyFileError,
} from './signing-key.ts';

const SPEC_KEY_FILE = 'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n';

// test-vectors.md §3 in Synapse's key-file format.
test('parseSigningKeyFile reads the spec test key (appendix § "Signing Key")', () => {
  const [key, ...rest] = parseSigningKeyFile(SPEC_KEY_FILE);
  assert.equal(rest.length, 0);
  assert.ok(key);
  assert.equal(key.algorithm, 'ed25519');
  assert.equal(key.version, '1');
  assert.equal(key.keyId, 'ed25519:1');
  assert.equal(key.publicKeyBase64, 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
  assert.equal(Buffer.from(key.seed).toString('hex'), '6090c103d5e7af6b15a970fd563ed75549e6159719ae5c3c31dee4316fb75c0d');
});

test('parseSigningKeyFile: several keys, blank lines, comments, CRLF', () => {
  const a = generateSigningKey('a_one');
  const b = generateSigningKey('b_two');
  const text = `# keys\r\n\r\n${formatSigningKeyFile([a])}\r\n  ${formatSigningKeyFile([b]).trim()}  \n`;
  const parsed = parseSigningKeyFile(text);
  assert.deepEqual(parsed.map((k) => k.keyId), ['ed25519:a_one', 'ed25519:b_two']);
  assert.deepEqual(parsed[1]!.publicKey, b.publicKey);
  assert.deepEqual(parseSigningKeyFile(''), []);
});

test('parseSigningKeyFile names the bad line', () => {
  const cases: [string, RegExp][] = [
    ['ed25519 1\n', /line 1: expected/],
    [`${SPEC_KEY_FILE}\ncurve25519 2 AAAA\n`, /line 3: unsupported algorithm "curve25519"/],
    ['ed25519 a-b YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n', /line 1: key version/],
    ['ed25519 1 not*base64\n', /line 1: the seed is not valid Base64/],
    ['ed25519 1 Zm9v\n', /line 1: the seed is 3 bytes, expected 32/],
    [`${SPEC_KEY_FILE}${SPEC_KEY_FILE}`, /line 2: key version 1 appears twice/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseSigningKeyFile(text), (error: unknown) => error instanceof SigningKeyFileError && message.test(error.message));
  }
});

test('generateSigningKey: Synapse-style version, round trip through the file format', () => {
  const key = generateSigningKey();
  assert.match(key.version, /^a_[a-zA-Z0-9]{4}$/);
  assert.equal(key.keyId, `ed25519:${key.version}`);
  const [back] = parseSigningKeyFile(formatSigningKeyFile([key]));
  assert.deepEqual(back?.publicKey, key.publicKey);
  assert.deepEqual(back?.sign(new Uint8Array([1])), key.sign(new Uint8Array([1])));
  assert.throws(() => generateSigningKey('bad version'), SigningKeyFileError);
});

test('loadOrCreateSigningKey creates a 0600 file once, then loads it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stoa-key-'));
  try {
    const path = join(dir, 'nested', 'deeper', 'signing.key');
    const first = await loadOrCreateSigningKey(path);
    assert.equal(first.created, true);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const second = await loadOrCreateSigningKey(path);
    assert.equal(second.created, false);
    assert.deepEqual(second.key.publicKey, first.key.publicKey);
    assert.equal(await readFile(path, 'utf8'), formatSigningKeyFile([first.key]));
    // No temporary files left behind.
    assert.deepEqual(await readdir(join(dir, 'nested', 'deeper')), ['signing.key']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loadOrCreateSigningKey: concurrent callers end up with the same key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stoa-key-'));
  try {
    const path = join(dir, 'signing.key');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSigningKey(path)));
    assert.equal(results.filter((r) => r.created).length, 1);
    for (const r of results) assert.deepEqual(r.key.publicKey, results[0]!.key.publicKey);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loadOrCreateSigningKey reads an existing Synapse key and refuses an empty or broken file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stoa-key-'));
  try {
    const path = join(dir, 'signing.key');
    await writeFile(path, SPEC_KEY_FILE);
    const loaded = await loadOrCreateSigningKey(path);
    assert.equal(loaded.created, false);
    assert.equal(loaded.key.publicKeyBase64, 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
    await writeFile(path, '\n');
    await assert.rejects(loadOrCreateSigningKey(path), SigningKeyFileError);
    await writeFile(path, 'garbage\n');
    await assert.rejects(loadOrCreateSigningKey(path), /line 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
