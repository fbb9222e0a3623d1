/**
 * A configuration problem, reported as one line: `config error: FILE: KEY: PROBLEM`.
 * The CLI prints `message` to stderr and exits 2, so the message never spans lines.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The config file as the operator named it (or the environment variable). */
  readonly file: string;
  /** Dotted key path (`listeners.client.port`, `federation.allow[2]`); undefined when the problem is the whole file. */
  readonly key: string | undefined;
  readonly problem: string;

  constructor(file: string, key: string | undefined, problem: string) {
    const oneLine = problem.replace(/\s*[\r\n]+\s*/g, ' ').trim();
    super(`config error: ${file}: ${key === undefined || key === '' ? '' : `${key}: `}${oneLine}`);
    this.file = file;
    this.key = key;
    this.problem = oneLine;
  }
}
