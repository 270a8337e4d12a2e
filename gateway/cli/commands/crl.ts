/** `xr-gateway crl import`: a partner CA's CRL, verified against that region's anchors (gateway/keys/partner-crl.ts). */
import { importPartnerCrl, loadRegionTrust } from '../../keys/partner-crl.ts';
import { argument, type Command } from '../command.ts';

export const crlCommands: Record<string, Command> = {
  'crl import': {
    summary: 'import a CRL (DER or PEM) of a partner region\'s CA: the certificates it lists are refused (XR_CERT_REVOKED)',
    usage: '<region> <file.crl>',
    positional: ['<region>', '<file.crl>'],
    changes: true,
    async run(args, context) {
      const region = argument(args, 0);
      const bytes = await context.io.readFile(argument(args, 1));
      const trust = await loadRegionTrust(context.store, region, context.nowMs());
      const summary = await importPartnerCrl({ store: context.store, trust, nowMs: context.nowMs }, region, bytes);
      context.io.out(`region ${summary.region}: CRL of ${summary.issuer} (${summary.thisUpdate}) imported; ${summary.revoked} certificates revoked`
        + (summary.stale ? `\nwarning: its nextUpdate (${summary.nextUpdate}) has passed; ask the CA for a newer one` : ''));
    },
  },
};
