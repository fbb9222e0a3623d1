// answerMalformedRequest: what Node's HTTP parser refuses still gets a Matrix error body
// (client-server § "Standard error response"), not Node's bare 400.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { answerMalformedRequest } from './client-error.ts';

async function rawExchange(request: Buffer): Promise<string> {
  const server = createServer((_req, res) => res.end('routed'));
  server.on('clientError', answerMalformedRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write(request);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    return Buffer.concat(chunks).toString('latin1');
  } finally {
    server.close();
  }
}

test('a raw 0xFF byte in the request line is answered 400 with a JSON M_UNKNOWN body', async () => {
  const response = await rawExchange(Buffer.concat([Buffer.from('GET /_matrix/client/v3/rooms/!a'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
  assert.match(response, /^HTTP\/1\.1 400 /);
  assert.match(response, /Content-Type: application\/json/);
  const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { errcode: string; error: string };
  assert.equal(body.errcode, 'M_UNKNOWN');
  assert.match(body.error, /Malformed HTTP request/);
});

test('oversized headers are answered 431 with a JSON body', async () => {
  const response = await rawExchange(Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
  assert.match(response, /^HTTP\/1\.1 431 /);
  assert.match(response, /"errcode":"M_UNKNOWN"/);
});
