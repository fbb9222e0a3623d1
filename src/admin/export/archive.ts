// The single-file "archive format" of a bundle (issue 8 item 1): the bundle's files in a
// ustar archive (./tar.ts), manifest.json first. An export is written as a directory in a
// private temporary folder and archived from there — the bundle writer needs random access
// to nothing, but its manifest can only be written last and must come first in the
// archive — then the folder is removed. Memory stays flat; disk holds the bundle twice at
// most (once when streamed over HTTP).

import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FILES, type Manifest } from './bundle-format.ts';
import { exportRoom, type ExportDeps, type ExportRoomOptions } from './exporter.ts';
import { extractTarFile, tarStream, writeTarFile } from './tar.ts';

/** The bundle's files in archive order: the manifest first, then what it describes. */
export async function bundleFiles(dir: string): Promise<string[]> {
  const fixed = [FILES.manifest, FILES.events, FILES.state, FILES.keys, FILES.transcript];
  const extra: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const name = sub === '' ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory()) await walk(name);
      else if (entry.isFile() && !(fixed as string[]).includes(name)) extra.push(name);
    }
  };
  await walk('');
  return [...fixed, ...extra.sort()];
}

export type ArchiveExportOptions = Omit<ExportRoomOptions, 'outDir'> & {
  /** The .tar file to write; must not exist. */
  readonly archive: string;
};

export async function exportRoomArchive(deps: ExportDeps, options: ArchiveExportOptions): Promise<Manifest> {
  const { archive, ...rest } = options;
  const work = await mkdtemp(path.join(path.dirname(path.resolve(archive)), '.stoa-export-'));
  try {
    const { manifest } = await exportRoom(deps, { ...rest, outDir: path.join(work, 'bundle') });
    const dir = path.join(work, 'bundle');
    await writeTarFile(dir, await bundleFiles(dir), archive);
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface StreamedArchive {
  readonly manifest: Manifest;
  /** The archive bytes; the temporary bundle is removed when the stream ends or is destroyed. */
  readonly stream: Readable;
  readonly bytes: number;
}

/** Exports into a temporary folder under `workRoot` (default: the OS's), then streams the archive. */
export async function exportRoomArchiveStream(
  deps: ExportDeps,
  options: Omit<ExportRoomOptions, 'outDir'>,
  workRoot: string = tmpdir(),
): Promise<StreamedArchive> {
  await mkdir(workRoot, { recursive: true });
  const work = await mkdtemp(path.join(workRoot, 'stoa-export-'));
  const cleanup = (): void => {
    void rm(work, { recursive: true, force: true });
  };
  try {
    const dir = path.join(work, 'bundle');
    const { manifest } = await exportRoom(deps, { ...options, outDir: dir });
    const files = await bundleFiles(dir);
    let bytes = 1024;
    for (const file of files) {
      const size = (await stat(path.join(dir, file))).size;
      bytes += 512 + size + ((512 - (size % 512)) % 512);
    }
    const stream = tarStream(dir, files);
    stream.once('close', cleanup);
    return { manifest, stream, bytes };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** Whether `target` is an archive file (rather than a bundle folder). */
export async function isArchiveFile(target: string): Promise<boolean> {
  try {
    return (await stat(target)).isFile();
  } catch {
    return false;
  }
}

/** Extracts an archive into a temporary folder, runs `fn` on it, and removes the folder. */
export async function withExtractedArchive<T>(archive: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(path.join(tmpdir(), 'stoa-verify-'));
  try {
    await extractTarFile(archive, work);
    return await fn(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
