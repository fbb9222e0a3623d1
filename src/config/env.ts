// The one place Stoa reads process.env. Everything else receives values from here.
import { ConfigError } from './config-error.ts';
import type { LogLevel } from './types.ts';

export interface StoaEnvironment {
  /** STOA_CONFIG: the config file, used when no --config is given. */
  readonly configPath: string | undefined;
  /** STOA_LOG_LEVEL: overrides the config file's log_level. */
  readonly logLevel: LogLevel | undefined;
  /** STOA_TEST_POSTGRES_URL: tests also run against this PostgreSQL server when set. */
  readonly testPostgresUrl: string | undefined;
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export type RawEnvironment = Readonly<Record<string, string | undefined>>;

/** The process environment itself, for the entry point to hand to readEnvironment. */
export function readRawEnvironment(): RawEnvironment {
  return process.env;
}

/** Reads Stoa's variables; empty values count as unset. Throws ConfigError for a bad STOA_LOG_LEVEL. */
export function readEnvironment(env: RawEnvironment = readRawEnvironment()): StoaEnvironment {
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw;
  };
  const logLevel = value('STOA_LOG_LEVEL');
  if (logLevel !== undefined && !isLogLevel(logLevel)) {
    throw new ConfigError('STOA_LOG_LEVEL', undefined, `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    configPath: value('STOA_CONFIG'),
    logLevel,
    testPostgresUrl: value('STOA_TEST_POSTGRES_URL'),
  };
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
