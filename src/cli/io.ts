/** Where the CLI writes human-facing text; JSON logs go through the logger instead. */
export interface CliIo {
  /** Writes one line (a newline is added) to stdout. */
  out(line: string): void;
  /** Writes one line (a newline is added) to stderr. */
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit statuses: see the usage text. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line was wrong; the CLI prints the message and the usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
