import { access } from 'node:fs/promises';
import path from 'node:path';
import type { StoaEnvironment } from '../../config/env.ts';
import { loadConfig } from '../../config/load.ts';
import { loadOrCreateSigningKey } from '../../crypto/signing-key.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.ts';

/**
 * Writes a new signing key to --output PATH, or to the config's signing_key_path. Refuses
 * to replace an existing key: losing a key makes other servers distrust old signatures.
 */
export async function generateKeysCommand(command: ParsedCommand, environment: StoaEnvironment, io: CliIo): Promise<number> {
  const target = path.resolve(command.output ?? (await signingKeyPathFromConfig(command, environment)));
  if (await exists(target)) {
    io.err(`stoa: a signing key already exists at ${target}; not overwritten`);
    return EXIT_FAILURE;
  }
  const { key, created } = await loadOrCreateSigningKey(target);
  if (!created) {
    io.err(`stoa: a signing key already exists at ${target}; not overwritten`);
    return EXIT_FAILURE;
  }
  io.out(`wrote a new signing key ${key.keyId} (public key ${key.publicKeyBase64}) to ${target}`);
  return EXIT_OK;
}

async function signingKeyPathFromConfig(command: ParsedCommand, environment: StoaEnvironment): Promise<string> {
  const location = await locateConfig(command.config, environment, false);
  return (await loadConfig(location.path)).signing_key_path;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
