// The V8 settings of the server and of the export commands. The young generation is kept small: at
// V8's default (16 MB semi-spaces, reserved three times over) an idle node holds some
// 35 MB it rarely needs. Measured on PostgreSQL, idle RSS 185 MB → 150 MB with 4 MB
// semi-spaces (2 MB saved nothing more); bench/export (1,000,000 events, 96 MB old-space
// cap) peaks at 149 MB instead of 259 exporting and 178 instead of 225 verifying.
// STOA_V8_DEFAULTS=0 turns this off; flags given on the command line or NODE_OPTIONS win.

/** The commands that run long enough, or over enough data, for the flags to matter. */
const COMMANDS: ReadonlySet<string> = new Set(['start', 'export-room', 'verify-export']);

export const SERVER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The flags `stoa <argv>` should be re-executed with; none when nothing is to change. */
export function serverV8Flags(argv: readonly string[], execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  if (argv[0] === undefined || !COMMANDS.has(argv[0]) || env['STOA_V8_DEFAULTS'] === '0') return [];
  const given = [...execArgv, ...(env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  return SERVER_V8_FLAGS.filter((flag) => {
    const name = flag.split('=')[0] ?? flag;
    return !given.some((g) => g === name || g.startsWith(`${name}=`) || g.replaceAll('_', '-').startsWith(`${name}=`));
  });
}
