import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMatrixError } from './matrix-error.ts';
import { MAX_BODY_DEPTH, parseJsonObjectBody } from './request-body.ts';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const nested = (levels: number): string => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

function errcodeOf(text: string): string | undefined {
  try {
    parseJsonObjectBody(encode(text));
    return undefined;
  } catch (error) {
    assert.ok(isMatrixError(error));
    return error.errcode;
  }
}

test(`bodies nested up to ${MAX_BODY_DEPTH} levels parse; deeper ones are M_BAD_JSON`, () => {
  assert.equal(errcodeOf(nested(MAX_BODY_DEPTH)), undefined);
  assert.equal(errcodeOf(nested(MAX_BODY_DEPTH + 1)), 'M_BAD_JSON');
  assert.equal(errcodeOf(`{"a":${'['.repeat(MAX_BODY_DEPTH)}${']'.repeat(MAX_BODY_DEPTH)}}`), 'M_BAD_JSON');
  // A runaway document is refused at the limit, without recursing through all of it.
  assert.equal(errcodeOf('['.repeat(1_000_000)), 'M_BAD_JSON');
});

test('invalid JSON stays M_NOT_JSON', () => {
  assert.equal(errcodeOf('{"a":'), 'M_NOT_JSON');
  assert.equal(errcodeOf('[]'), 'M_NOT_JSON');
});
