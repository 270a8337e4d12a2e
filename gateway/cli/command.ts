/**
 * The shape of a CLI command (gateway/cli.ts): the words that name it, the flags it takes, and what it does
 * with the data directory. Commands reach state only through CliContext, so that tests run them in-process.
 */
import type { Settings } from '../../config/settings.ts';
import type { Store } from '../store/store.ts';

export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  readFile(file: string): Promise<Buffer>;
  writeFile(file: string, text: string): Promise<void>;
}

export interface ParsedArgs {
  /** The words after the command's name. */
  positional: string[];
  /** `--name value` (or `--name=value`), or true for a boolean flag. */
  flags: Map<string, string | true>;
}

export interface CliContext {
  io: CliIo;
  settings: Settings;
  nowMs(): number;
  /** The Store of XR_DATA_DIR, opened for this command and closed after it. */
  store: Store;
}

export interface Command {
  /** One line for `xr-gateway help`. */
  summary: string;
  /** Arguments after the command's name, e.g. `<id> <chain.pem> [--json]`. */
  usage: string;
  /** The names of its positional arguments, all required, e.g. ['<id>', '<chain.pem>']. */
  positional?: readonly string[];
  /** The flags it accepts: whether each takes a value. */
  flags?: Record<string, 'value' | 'boolean'>;
  /**
   * Whether it changes state: a changing command may create the data directory, and tells running
   * gateways on it to reload (gateway/keys/maintenance.ts); a reading one refuses a directory with no data.
   */
  changes: boolean;
  run(args: ParsedArgs, context: CliContext): Promise<void>;
}

/** Wrong words or flags: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The n-th positional argument (their number is checked before the command runs). */
export function argument(args: ParsedArgs, index: number): string {
  return args.positional[index]!;
}

export function flagValue(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** Left-aligned columns, for lists a person reads (`--json` gives the same data to scripts). */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
