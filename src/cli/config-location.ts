import { access } from 'node:fs/promises';
import { ConfigError } from '../config/config-error.ts';
import type { StoaEnvironment } from '../config/env.ts';
import { DEFAULT_CONFIG_PATH, writeFirstStartConfig } from '../config/generate.ts';

export interface ConfigLocation {
  /** The path as given (or the default, relative to the working directory). */
  readonly path: string;
  /** True when this run wrote the file (first start). */
  readonly generated: boolean;
}

/**
 * Picks the config file: --config, else STOA_CONFIG, else ./data/homeserver.yaml. Only the
 * default may be generated, and only when `generateIfMissing`: a file the operator named
 * but that is missing is an error, never silently replaced by a fresh config.
 */
export async function locateConfig(
  flag: string | undefined,
  environment: StoaEnvironment,
  generateIfMissing: boolean,
): Promise<ConfigLocation> {
  const named = flag ?? environment.configPath;
  if (named !== undefined) return { path: named, generated: false };

  if (await exists(DEFAULT_CONFIG_PATH)) return { path: DEFAULT_CONFIG_PATH, generated: false };
  if (!generateIfMissing) {
    throw new ConfigError(DEFAULT_CONFIG_PATH, undefined, 'file not found (pass --config FILE, set STOA_CONFIG, or run "stoa start" once to generate it)');
  }
  try {
    await writeFirstStartConfig(DEFAULT_CONFIG_PATH);
  } catch (error) {
    // Another process generated it between our check and our write: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { path: DEFAULT_CONFIG_PATH, generated: false };
    throw error;
  }
  return { path: DEFAULT_CONFIG_PATH, generated: true };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
