// Running matrix-js-sdk quietly inside node:test. Importing this module silences the sdk's
// logging (it logs every sync at debug level) and unrefs its long timers: the sdk arms a
// plain timer per /sync request for its client-side timeout (poll timeout + 80 s) and
// stopClient() leaves them armed, which would hold the test process open for almost two
// minutes after the last test. Unref'd timers still fire while anything else keeps the
// process alive, so the sdk behaves exactly as it would otherwise.

import { logger as sdkGlobalLogger, type Logger } from 'matrix-js-sdk/lib/logger.js';

/** For each client's `logger` option. */
export const silentSdkLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild: () => silentSdkLogger,
};
// The global logger and every logger derived from it from now on (MatrixRTC, per room).
Object.assign(sdkGlobalLogger, silentSdkLogger, { log() {} });

const LONG_TIMER_MS = 60_000;
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = Object.assign(
  (handler: (...a: unknown[]) => void, delay?: number, ...args: unknown[]): NodeJS.Timeout => {
    const timer = realSetTimeout(handler, delay, ...args);
    if (typeof delay === 'number' && delay > LONG_TIMER_MS) timer.unref();
    return timer;
  },
  { __promisify__: realSetTimeout.__promisify__ },
) as typeof globalThis.setTimeout;
