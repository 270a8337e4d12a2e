/**
 * The partner cities of a benchmark run: by default 100 of them (the RSS target is "with 100 registered
 * partners"), each with its own CA and signer (test/support/pki.ts), registered through the admin API like
 * an operator would (PUT the partner, POST its CA as the region's trust anchor). Formats go round the five
 * families, so each family's traffic comes from a fifth of the partners, signed by each one's own key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MESSAGE_TYPES } from '../../gateway/protocol/messages.ts';
import { makePartnerPki, type PartnerPki } from '../../test/support/pki.ts';
import { FAMILIES, type Family } from './messages.ts';

export interface BenchPartner {
  region: string;
  family: Family;
  pki: PartnerPki;
}

/** Districts and cities of Shanghai, Jiangsu, Zhejiang and Anhui (not Huzhou's own 3305xx), from the region table. */
function partnerRegions(count: number): string[] {
  const table = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../adapters/regions/regions.json'), 'utf8')) as Record<string, string>;
  const codes = Object.keys(table).filter((code) => /^3[1-4]\d{2}(?!00)\d{2}$/.test(code) && !code.startsWith('3305')).sort();
  if (codes.length < count) throw new Error(`the region table has only ${codes.length} partner regions`);
  return codes.slice(0, count);
}

export async function makePartners(count: number): Promise<BenchPartner[]> {
  return Promise.all(partnerRegions(count).map(async (region, index) => ({
    region,
    family: FAMILIES[index % FAMILIES.length]!,
    pki: await makePartnerPki(region),
  })));
}

async function adminCall(adminUrl: string, token: string, method: string, pathname: string, body: string, contentType: string): Promise<void> {
  const response = await fetch(`${adminUrl}${pathname}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
  if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${await response.text()}`);
}

/** Registers every partner with `endpoint` as its gateway (only the outbound target is ever called). */
export async function registerPartners(adminUrl: string, token: string, partners: readonly BenchPartner[], endpoint: string): Promise<void> {
  for (const partner of partners) {
    const document = { name: `bench ${partner.region}`, endpoint, format: partner.family, services: [...MESSAGE_TYPES] };
    await adminCall(adminUrl, token, 'PUT', `/admin/v1/partners/${partner.region}`, JSON.stringify(document), 'application/json');
    await adminCall(adminUrl, token, 'POST', `/admin/v1/partners/${partner.region}/trust`, partner.pki.caPem, 'application/x-pem-file');
  }
}
