/** `xr-gateway keys ...`: Huzhou's signing keys (gateway/keys/lifecycle.ts — the same functions as the admin API). */
import { keyContext } from '../../keys/key-context.ts';
import type { SigningKeyView } from '../../keys/key-view.ts';
import { activateSigningKey, DEFAULT_OVERLAP_DAYS, generateSigningKey, importPkcs12, installCertificate, listSigningKeys } from '../../keys/lifecycle.ts';
import { argument, flagValue, table, UsageError, type CliContext, type Command } from '../command.ts';

function keysOf(context: CliContext) {
  return keyContext(context.settings, context.store, context.nowMs);
}

function describe(key: SigningKeyView): string {
  const certificate = key.certificate === null ? 'no certificate yet' : `kid ${key.kid}, valid until ${key.certificate.notAfter} (${key.certificate.daysLeft} days)`;
  return `key ${key.id} (${key.state}): ${key.subject}; ${certificate}`;
}

function overlapDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError('--overlap-days takes a whole number of days');
  return Number(value);
}

export const keyCommands: Record<string, Command> = {
  'keys list': {
    summary: 'every signing key with its state and certificate',
    usage: '[--json]',
    flags: { json: 'boolean' },
    changes: false,
    async run(args, context) {
      const keys = await listSigningKeys(keysOf(context));
      if (args.flags.has('json')) return context.io.out(JSON.stringify(keys, null, 2));
      context.io.out(table(['ID', 'STATE', 'ALG', 'KID', 'NOT AFTER', 'DAYS', 'SUBJECT'], keys.map((key) => [
        key.id, key.state, key.alg ?? '-', key.kid?.slice(0, 12) ?? '-', key.certificate?.notAfter.slice(0, 10) ?? '-',
        key.certificate ? String(key.certificate.daysLeft) : '-', key.subject,
      ])));
    },
  },

  'keys generate': {
    summary: 'a new signing key and a CSR for Huzhou\'s CA (the key waits, pending, for its certificate)',
    usage: '--subject "CN=XR gateway 330500,O=Huzhou,C=CN" [--alg ES256|PS256|EdDSA] [--csr-out file.csr] [--json]',
    flags: { subject: 'value', alg: 'value', 'csr-out': 'value', json: 'boolean' },
    changes: true,
    async run(args, context) {
      const subject = flagValue(args, 'subject');
      if (subject === undefined) throw new UsageError('--subject is required');
      const alg = flagValue(args, 'alg');
      const { key, csrPem } = await generateSigningKey(keysOf(context), { subject, ...(alg === undefined ? {} : { alg }) });
      if (args.flags.has('json')) return context.io.out(JSON.stringify({ key, csr: csrPem }, null, 2));
      const csrOut = flagValue(args, 'csr-out');
      if (csrOut !== undefined) await context.io.writeFile(csrOut, csrPem);
      context.io.out(`${describe(key)}\nsend ${csrOut ?? 'this CSR'} to Huzhou's CA, then: xr-gateway keys install ${key.id} <issued-chain.pem>`);
      if (csrOut === undefined) context.io.out(csrPem.trimEnd());
    },
  },

  'keys install': {
    summary: 'install the certificate chain the CA issued for a pending key (leaf first)',
    usage: '<id> <chain.pem>',
    positional: ['<id>', '<chain.pem>'],
    changes: true,
    async run(args, context) {
      const id = argument(args, 0);
      const pem = (await context.io.readFile(argument(args, 1))).toString('utf8');
      const key = await installCertificate(keysOf(context), id, pem);
      context.io.out(`${describe(key)}\nactivate with: xr-gateway keys activate ${key.id} --overlap-days ${DEFAULT_OVERLAP_DAYS}`);
    },
  },

  'keys activate': {
    summary: 'sign with a ready key from now on; the previous key stays published for the overlap',
    usage: `<id> [--overlap-days ${DEFAULT_OVERLAP_DAYS}] [--accept-new-anchor]`,
    positional: ['<id>'],
    flags: { 'overlap-days': 'value', 'accept-new-anchor': 'boolean' },
    changes: true,
    async run(args, context) {
      const days = overlapDays(flagValue(args, 'overlap-days'));
      const activation = await activateSigningKey(keysOf(context), argument(args, 0), {
        ...(days === undefined ? {} : { overlapDays: days }),
        acceptNewAnchor: args.flags.has('accept-new-anchor'),
      });
      context.io.out(describe(activation.active));
      if (activation.previous) context.io.out(describe(activation.previous) + (activation.previous.overlapEndsAt ? ` — published until ${activation.previous.overlapEndsAt}` : ''));
    },
  },

  'keys import-p12': {
    summary: 'import a key and its chain from a PKCS#12 file; its passphrase is read from an environment variable',
    usage: '<file.p12> --passphrase-env VARIABLE',
    positional: ['<file.p12>'],
    flags: { 'passphrase-env': 'value' },
    changes: true,
    async run(args, context) {
      const file = argument(args, 0);
      const variable = flagValue(args, 'passphrase-env');
      // Never on the command line: it would stay in the shell history and in `ps`.
      if (variable === undefined) throw new UsageError('--passphrase-env names the environment variable holding the PKCS#12 passphrase');
      const passphrase = context.io.env[variable];
      if (passphrase === undefined) throw new UsageError(`the environment variable ${variable} is not set`);
      const key = await importPkcs12(keysOf(context), await context.io.readFile(file), passphrase);
      context.io.out(`${describe(key)}\nactivate with: xr-gateway keys activate ${key.id} --overlap-days ${DEFAULT_OVERLAP_DAYS}`);
    },
  },
};
