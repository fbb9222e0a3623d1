// `stoa verify-export BUNDLE`: offline verification of an export bundle (issue 8 item 2).
// Needs no server, no database and no network. Exit status 0 when every check passes, 1
// when any problem was found, 2 for a bad command line.

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isArchiveFile, withExtractedArchive } from '../../admin/export/archive.ts';
import { FILES } from '../../admin/export/bundle-format.ts';
import { TarError } from '../../admin/export/tar.ts';
import { verifyExport, type PinnedKey, type VerifyReport } from '../../admin/export/verifier.ts';
import type { StoaEnvironment } from '../../config/env.ts';
import type { ParsedCommand } from '../args.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.ts';

export async function verifyExportCommand(command: ParsedCommand, _environment: StoaEnvironment, io: CliIo): Promise<number> {
  const { bundle, pins, workers } = parseVerifyArgs(command.args ?? []);
  if (await isArchiveFile(bundle)) {
    // The single-file form: extracted to a temporary folder, verified, removed.
    return withExtractedArchive(bundle, async (dir) => {
      if (!(await isFile(path.join(dir, FILES.manifest)))) {
        io.err(`stoa: ${bundle} holds no export bundle (no ${FILES.manifest})`);
        return EXIT_FAILURE;
      }
      const started = performance.now();
      const report = await verifyExport(dir, { expectKeys: pins, ...(workers === undefined ? {} : { workers }) });
      printReport(io, bundle, report, (performance.now() - started) / 1000);
      return report.ok ? EXIT_OK : EXIT_FAILURE;
    }).catch((error: unknown) => {
      if (!(error instanceof TarError)) throw error;
      io.err(`stoa: ${bundle} is not a readable bundle archive: ${error.message}`);
      return EXIT_FAILURE;
    });
  }
  const bundles = await findBundles(bundle);
  if (bundles.length === 0) {
    io.err(`stoa: ${bundle} holds no export bundle (no ${FILES.manifest})`);
    return EXIT_FAILURE;
  }
  let failed = 0;
  for (const dir of bundles) {
    const started = performance.now();
    const report = await verifyExport(dir, { expectKeys: pins, ...(workers === undefined ? {} : { workers }) });
    printReport(io, dir, report, (performance.now() - started) / 1000);
    if (!report.ok) failed++;
  }
  if (bundles.length > 1) io.out(failed === 0 ? `all ${bundles.length} bundles verified` : `${failed} of ${bundles.length} bundles FAILED`);
  return failed === 0 ? EXIT_OK : EXIT_FAILURE;
}

function parseVerifyArgs(argv: readonly string[]): { bundle: string; pins: PinnedKey[]; workers: number | undefined } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { 'expect-key': { type: 'string', multiple: true }, workers: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`verify-export: ${(error as Error).message}`);
  }
  const [bundle, ...extra] = parsed.positionals;
  if (bundle === undefined) throw new UsageError('verify-export: name the bundle directory or .tar archive');
  if (extra.length > 0) throw new UsageError(`verify-export: unexpected argument "${extra[0]}"`);
  const pins = (parsed.values['expect-key'] ?? []).map((text) => {
    const match = /^(ed25519:[A-Za-z0-9_]+)=([A-Za-z0-9+/]{43})$/.exec(text);
    if (match === null) throw new UsageError(`verify-export: --expect-key must look like ed25519:KEYID=BASE64 (the key as "stoa export-room" prints it), not "${text}"`);
    return { keyId: match[1] ?? '', publicKey: match[2] ?? '' };
  });
  const workersText = parsed.values.workers;
  if (workersText !== undefined && !/^\d+$/.test(workersText)) throw new UsageError('verify-export: --workers must be a number');
  return { bundle, pins, workers: workersText === undefined ? undefined : Number(workersText) };
}

/** The bundle itself, or (a custodian export) the bundles in its subdirectories. */
async function findBundles(dir: string): Promise<string[]> {
  if (await isFile(path.join(dir, FILES.manifest))) return [dir];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (await isFile(path.join(dir, entry.name, FILES.manifest))) found.push(path.join(dir, entry.name));
  }
  return found;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function printReport(io: CliIo, dir: string, report: VerifyReport, seconds: number): void {
  io.out(`bundle ${path.resolve(dir)}`);
  const m = report.manifest;
  if (m !== undefined) {
    const scope = [
      m.scope.since_ts === null ? 'from the start' : `from ${new Date(m.scope.since_ts).toISOString()}`,
      m.scope.until_ts === null ? `to stream position ${m.scope.up_to_stream_ordering}` : `until ${new Date(m.scope.until_ts).toISOString()}`,
      ...(m.scope.custodian === null ? [] : [`custodian ${m.scope.custodian}`]),
    ].join(', ');
    io.out(`  room ${m.scope.room_id} (version ${m.room_version}), exported by ${m.server_name} at ${safeIso(m.exported_at)}; ${scope}`);
    io.out(
      `  events ${report.stats.events} (manifest: ${m.counts.events}; rejected ${m.counts.rejected}, soft-failed ${m.counts.soft_failed}, redacted ${m.counts.redacted}, outliers ${m.counts.outliers}), state at start ${report.stats.stateEvents}, servers ${m.counts.servers}`,
    );
    if (m.encryption.encrypted) io.out(`  end-to-end encrypted (${m.encryption.algorithm ?? 'unknown'}): events hold ciphertext and metadata only`);
    if (report.stats.redactedOnReceipt > 0) {
      io.out(`  ${report.stats.redactedOnReceipt} event(s) were stored as their redacted copy because their content hash failed on receipt (as the spec requires)`);
    }
  }
  const rate = seconds > 0 ? Math.round(report.stats.events / seconds) : report.stats.events;
  if (report.ok) {
    io.out(`VERIFIED: manifest signature, file hashes, every event's ID, content hash and signatures, the hash chain, the DAG links and the scope all check out (${seconds.toFixed(1)} s, ${rate} events/s)`);
    io.out(
      report.pinned
        ? '  the manifest is signed by the key you pinned: the bundle is intact and came from that server'
        : '  the signing key was not pinned (--expect-key): this proves the bundle is intact and self-consistent, not who exported it',
    );
    return;
  }
  const total = report.problems.length + report.problemsOmitted;
  io.out(`FAILED: ${total} problem${total === 1 ? '' : 's'} found`);
  for (const p of report.problems) {
    const where = [p.file, p.line === undefined ? undefined : `line ${p.line}`, p.eventId].filter((x) => x !== undefined).join(' ');
    io.out(`  [${p.code}] ${where === '' ? '' : `${where}: `}${p.message}`);
  }
  if (report.problemsOmitted > 0) io.out(`  … and ${report.problemsOmitted} more`);
}

function safeIso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
