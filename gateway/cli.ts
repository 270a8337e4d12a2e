/**
 * `npx xr-gateway <command>` (bin/xr-gateway.mjs): operations on the data directory of a gateway (XR_DATA_DIR,
 * with the same environment variables as `npm start`), through the same functions as the admin API. A change
 * made here reaches a running gateway on the same directory within 30 s (gateway/keys/maintenance.ts).
 *
 *   xr-gateway keys list | generate | install | activate | import-p12
 *   xr-gateway certs list
 *   xr-gateway crl import <region> <file>
 *   xr-gateway help
 *
 * The commands are a table (`commands`, gateway/cli/commands/index.ts): to add one, write a module in
 * gateway/cli/commands/ exporting a `Record<string, Command>` and spread it into that table.
 * Exit codes: 0 done, 1 refused or failed (one line on stderr saying why), 2 wrong words or flags.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RegionTable } from '../adapters/regions/index.ts';
import { ConfigError, loadSettings } from '../config/settings.ts';
import { UsageError, type CliIo, type Command, type ParsedArgs } from './cli/command.ts';
import { commands } from './cli/commands/index.ts';
import { announceExternalChange } from './keys/maintenance.ts';
import { isXrError } from './protocol/errors.ts';
import { DATABASE_FILE } from './server.ts';
import { SqliteStore } from './store/sqlite-store.ts';

export { commands };

const PROGRAM = 'xr-gateway';

function help(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((name) => name.length));
  return [
    `usage: ${PROGRAM} <command> [arguments]  (settings from the environment, as for npm start: XR_DATA_DIR, XR_KEY_PASSPHRASE, ...)`,
    '',
    ...names.map((name) => `  ${name.padEnd(width)}  ${commands[name]!.summary}`),
    '',
    `${PROGRAM} <command> --help shows a command's arguments.`,
  ].join('\n');
}

/** The command named by the first words (the longest name that matches), and the words after it. */
function findCommand(words: readonly string[]): { name: string; command: Command; rest: string[] } | undefined {
  for (let length = Math.min(words.length, 3); length > 0; length--) {
    const name = words.slice(0, length).join(' ');
    const command = commands[name];
    if (command !== undefined) return { name, command, rest: words.slice(length) };
  }
  return undefined;
}

function parseArgs(words: readonly string[], command: Command): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (!word.startsWith('--')) {
      positional.push(word);
      continue;
    }
    const [name = '', inline] = word.slice(2).split(/=(.*)/s, 2);
    const kind = command.flags?.[name];
    if (kind === undefined) throw new UsageError(`unknown flag --${name}`);
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = inline ?? words[++index];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  const expected = command.positional ?? [];
  if (positional.length < expected.length) throw new UsageError(`missing ${expected.slice(positional.length).join(' ')}`);
  if (positional.length > expected.length) throw new UsageError(`unexpected argument "${positional[expected.length]!.slice(0, 60)}"`);
  return { positional, flags };
}

function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  if (isXrError(error)) return error.detail;
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'EACCES') return `cannot read ${(error as { path?: string }).path ?? 'the file'} (${String(code)})`;
  return error instanceof Error ? error.message : String(error);
}

/** Runs one command line (without the program name); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, nowMs: () => number = Date.now): Promise<number> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0]!)) {
    io.out(help());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (found === undefined) {
    io.err(`${PROGRAM}: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${help()}`);
    return 2;
  }
  const { name, command, rest } = found;
  if (rest.includes('--help')) {
    io.out(`usage: ${PROGRAM} ${name} ${command.usage}\n  ${command.summary}`);
    return 0;
  }
  try {
    const args = parseArgs(rest, command);
    const regions = RegionTable.default();
    const settings = loadSettings(io.env, (code) => regions.has(code));
    const database = path.join(settings.dataDir, DATABASE_FILE);
    if (!command.changes && !existsSync(database)) throw new Error(`no gateway data in ${settings.dataDir} (set XR_DATA_DIR to the gateway's data directory)`);
    const store = new SqliteStore(database);
    try {
      await command.run(args, { io, settings, nowMs, store });
      if (command.changes) await announceExternalChange(store, nowMs());
    } finally {
      await store.close();
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${PROGRAM} ${name}: ${error.message}\nusage: ${PROGRAM} ${name} ${command.usage}`);
      return 2;
    }
    io.err(`${PROGRAM} ${name}: ${describeFailure(error)}`);
    return 1;
  }
}

/** The process entry point (bin/xr-gateway.mjs). */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    readFile: (file) => readFile(file),
    writeFile: (file, text) => writeFile(file, text, { mode: 0o644 }),
  });
}
