/** `xr-gateway certs list`: every certificate the gateway depends on, with days left (gateway/keys/expiry.ts). */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCertificateBundle } from '../../../certs/pem.ts';
import { certificateExpiries, EXPIRY_WARNING_DAYS } from '../../keys/expiry.ts';
import { table, type CliContext, type Command } from '../command.ts';

function readChain(...files: Array<string | undefined>): X509Certificate[] {
  return files.flatMap((file) => (file === undefined ? [] : parseCertificateBundle(readFileSync(file, 'utf8'))));
}

/** The chain that signs, as the gateway would load it — certificates only: listing needs no private key. */
async function signingChain(context: CliContext): Promise<X509Certificate[]> {
  const { settings } = context;
  if (settings.signingKeyFile !== undefined && settings.signingCertFile !== undefined) return readChain(settings.signingCertFile, settings.signingChainFile);
  const active = (await context.store.listSigningKeys()).find((record) => record.state === 'active');
  return (active?.chainPem ?? []).map((pem) => new X509Certificate(pem));
}

export const certCommands: Record<string, Command> = {
  'certs list': {
    summary: `every certificate (own signing chain, partner trust anchors, TLS) with days left; ! marks ${EXPIRY_WARNING_DAYS} days or fewer`,
    usage: '[--json]',
    flags: { json: 'boolean' },
    changes: false,
    async run(args, context) {
      const chain = await signingChain(context);
      const tls = readChain(context.settings.tls?.certFile);
      const expiries = await certificateExpiries({
        ownRegion: context.settings.region, store: context.store, signingChain: () => chain, tlsChain: () => tls,
      }, context.nowMs());
      if (args.flags.has('json')) return context.io.out(JSON.stringify(expiries, null, 2));
      context.io.out(table(['', 'SCOPE', 'REGION', 'DAYS', 'NOT AFTER', 'KID', 'SUBJECT'], expiries.map((entry) => [
        entry.daysLeft <= EXPIRY_WARNING_DAYS ? '!' : '', entry.scope, entry.region, String(entry.daysLeft), entry.notAfter.slice(0, 10), entry.kid.slice(0, 12), entry.subject,
      ])));
    },
  },
};
