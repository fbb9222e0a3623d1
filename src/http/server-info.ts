// The software's name and version, as `/_matrix/federation/v1/version` and logs report them.
// The version is read from package.json at start-up (a file read, not an import: the
// package manifest belongs to no layer of the code).
import { readFileSync } from 'node:fs';

export const SOFTWARE_NAME = 'Stoa';

function readPackageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = typeof manifest === 'object' && manifest !== null ? (manifest as { version?: unknown }).version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

export const SOFTWARE_VERSION: string = readPackageVersion();
