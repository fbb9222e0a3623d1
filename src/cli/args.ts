import { parseArgs } from 'node:util';
import type { ProcessRole } from '../config/types.ts';
import { UsageError } from './io.ts';

export type CommandName = 'start' | 'migrate' | 'generate-keys' | 'help' | SelfParsingCommand;

/** Commands with options of their own, parsed by the command (`args`: everything after its name). */
export type SelfParsingCommand = 'export-room' | 'verify-export' | 'verify-audit-log' | 'backup' | 'restore';
const SELF_PARSING: readonly string[] = ['export-room', 'verify-export', 'verify-audit-log', 'backup', 'restore'] satisfies SelfParsingCommand[];

export interface ParsedCommand {
  readonly command: CommandName;
  readonly config: string | undefined;
  readonly output: string | undefined;
  /** For a SelfParsingCommand: the arguments after the command name. */
  readonly args?: readonly string[];
  /** `start --role`: overrides `cluster.role`. */
  readonly role?: ProcessRole;
  /** `start --federation-shard I/N`: overrides `cluster.federation_sender_index` / `_instances`. */
  readonly federationShard?: { readonly index: number; readonly instances: number };
}

const ROLES: readonly ProcessRole[] = ['all', 'client', 'federation-sender'];

const COMMANDS: Readonly<Record<Exclude<CommandName, SelfParsingCommand>, readonly ('config' | 'output')[]>> = {
  start: ['config'],
  migrate: ['config'],
  'generate-keys': ['config', 'output'],
  help: [],
};

/** Parses `argv` (without node and the script). Throws UsageError for anything unexpected. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const [first, ...rest] = argv;
  if (first !== undefined && SELF_PARSING.includes(first)) {
    return { command: first as SelfParsingCommand, config: undefined, output: undefined, args: rest };
  }
  const { values, positionals } = parseOptions(argv);
  if (values.help === true) return { command: 'help', config: undefined, output: undefined };

  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError('no command given');
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const allowed = COMMANDS[name];
  for (const option of ['config', 'output'] as const) {
    if (values[option] !== undefined && !allowed.includes(option)) {
      throw new UsageError(`"${name}" does not take --${option}`);
    }
    if (values[option] === '') throw new UsageError(`--${option} needs a path`);
  }
  if (values.config !== undefined && values.output !== undefined) {
    throw new UsageError('give either --config or --output, not both');
  }
  if (name !== 'start' && (values.role !== undefined || values['federation-shard'] !== undefined)) {
    throw new UsageError(`"${name}" does not take --role or --federation-shard`);
  }
  let role: ProcessRole | undefined;
  if (values.role !== undefined) {
    if (!(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    role = values.role as ProcessRole;
  }
  let federationShard: { index: number; instances: number } | undefined;
  const shard = values['federation-shard'];
  if (shard !== undefined) {
    const match = /^(\d{1,4})\/(\d{1,4})$/.exec(shard);
    const index = Number(match?.[1]);
    const instances = Number(match?.[2]);
    if (match === null || instances < 1 || index >= instances) throw new UsageError('--federation-shard must be I/N with 0 <= I < N');
    federationShard = { index, instances };
  }
  return {
    command: name,
    config: values.config,
    output: values.output,
    ...(role === undefined ? {} : { role }),
    ...(federationShard === undefined ? {} : { federationShard }),
  };
}

function isCommand(name: string): name is Exclude<CommandName, SelfParsingCommand> {
  return Object.hasOwn(COMMANDS, name);
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
        role: { type: 'string' },
        'federation-shard': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
