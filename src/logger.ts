// JSON logs (pino) on stdout. Modules accept pino's Logger and make children with context.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/types.ts';

export type { Logger };

/**
 * A logger at `level`, writing one JSON object per line to `destination` (stdout by
 * default, synchronously, so lines written just before exit are not lost).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names rather than numbers: operators grep for "error", not 50.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
