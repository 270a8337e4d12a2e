/**
 * Every CLI command, by the words that name it (`xr-gateway keys list`). To add commands, e.g. `audit verify`:
 * write gateway/cli/commands/audit.ts exporting a `Record<string, Command>` (see ../command.ts and keys.ts
 * for the shape: summary, usage, flags, changes, run) and spread it into `commands` below.
 */
import type { Command } from '../command.ts';
import { auditCommands } from './audit.ts';
import { certCommands } from './certs.ts';
import { crlCommands } from './crl.ts';
import { keyCommands } from './keys.ts';

export const commands: Record<string, Command> = {
  ...keyCommands,
  ...certCommands,
  ...crlCommands,
  ...auditCommands,
};
