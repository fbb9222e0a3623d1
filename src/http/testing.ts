// Test helpers for the HTTP layer: an app on an ephemeral port, a config, loggers, and a
// raw request helper for what fetch hides (streamed bodies, exact headers).

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { configFromObject } from '../config/load.ts';
import type { StoaConfig } from '../config/types.ts';
import { buildApp, type AppOptions } from './app.ts';
import { createHttpMetrics, type HttpMetrics } from './metrics.ts';

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger that keeps every line as a parsed object. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), lines };
}

export function testConfig(overrides: Record<string, unknown> = {}): StoaConfig {
  return configFromObject(
    {
      server_name: 'stoa.test',
      listeners: { client: { port: 0 }, federation: { port: 0 } },
      data_dir: '/nonexistent/stoa-test',
      ...overrides,
    },
    { file: 'test.yaml', baseDir: '/nonexistent' },
  );
}

export interface RunningApp {
  readonly url: string;
  readonly port: number;
  readonly metrics: HttpMetrics;
  close(): Promise<void>;
}

/** Builds an app from `options` (defaults: client listener, silent, 64 KiB bodies) on 127.0.0.1:0. */
export async function startApp(options: Partial<AppOptions> & Pick<AppOptions, 'endpoints'>): Promise<RunningApp> {
  const metrics = options.metrics ?? createHttpMetrics();
  const app = buildApp({ listener: 'client', logger: silentLogger(), maxBodyBytes: 65_536, ...options, metrics });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json(): Record<string, unknown>;
}

/**
 * Sends `chunks` one after another (each awaited), so a body can exceed a limit without a
 * Content-Length; stops writing once the response has started arriving.
 */
export function rawRequest(
  port: number,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    chunks?: readonly Uint8Array[];
    /** Do not end the body until the response has arrived: proves the server did not wait for it. */
    holdOpen?: boolean;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method, path: options.path, headers: options.headers ?? {} }, (res) => {
      responded = true;
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    // Once the server has answered it may close the connection on us mid-upload; that is
    // the behaviour under test, not a failure.
    req.on('error', (error) => {
      if (!responded) reject(error);
    });
    void (async () => {
      for (const chunk of options.chunks ?? []) {
        if (responded) break;
        const ok = req.write(chunk);
        if (!ok) await new Promise((resolve) => req.once('drain', resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (options.holdOpen === true && !responded) {
        await new Promise((resolve) => req.once('response', resolve));
      }
      req.end();
    })();
  });
}
