// Requests Node's HTTP parser refuses before any middleware runs (raw non-ASCII bytes in
// the request line, malformed or oversized headers): Node's default answer is a bare
// "400 Bad Request" with no body. Clients get a Matrix error instead, like every other
// refusal (client-server § "Standard error response").

import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { CORS_HEADERS } from './app.ts';

function statusFor(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    default:
      return 400;
  }
}

/** A `clientError` listener for an http(s) server: a JSON M_UNKNOWN error, then close. */
export function answerMalformedRequest(error: Error & { code?: string }, socket: Duplex): void {
  // The client is gone, or a response is already on the wire: nothing sensible to add.
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status = statusFor(error.code);
  const body = JSON.stringify({ errcode: 'M_UNKNOWN', error: `Malformed HTTP request${error.code === undefined ? '' : ` (${error.code})`}` });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(CORS_HEADERS).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
