/**
 * `xr-gateway audit verify`: walks the hash chain of the audit log in XR_DATA_DIR (gateway/audit/chain.ts)
 * and says that it is intact — with its head, to note down elsewhere so that a later cut at the end shows —
 * or names the first record that does not hold (exit 1). Opens the log read-only: it runs beside a gateway.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AUDIT_FILE, verifyAuditFile } from '../../audit/sqlite-audit-log.ts';
import { UsageError, type Command } from '../command.ts';

export const auditCommands: Record<string, Command> = {
  'audit verify': {
    summary: 'check the audit log\'s hash chain: intact, or the first record that was changed or removed',
    usage: '',
    changes: false,
    async run(args, { io, settings }) {
      if (args.positional.length > 0) throw new UsageError('takes no arguments');
      const file = path.join(settings.dataDir, AUDIT_FILE);
      if (!existsSync(file)) throw new Error(`no audit log at ${file}`);
      const verdict = verifyAuditFile(file);
      if (!verdict.ok) throw new Error(`audit log BROKEN at record ${verdict.seq}: ${verdict.reason}`);
      io.out(verdict.head === null
        ? `audit log intact: no records yet (${file})`
        : `audit log intact: ${verdict.records} records, head ${verdict.head.seq} ${verdict.head.hash} (${file})`);
    },
  },
};
