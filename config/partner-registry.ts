/**
 * The default registry of the nine G60 partner regions (config/partners.default.yaml): the name and format
 * family a region has unless its registration says otherwise. Read once at start.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface RegistryEntry {
  region: string;
  name: string;
  format: string;
}

const FILE = new URL('./partners.default.yaml', import.meta.url);

export function defaultPartnerRegistry(): Map<string, RegistryEntry> {
  const document = parse(readFileSync(FILE, 'utf8')) as { partners?: unknown };
  if (!Array.isArray(document.partners)) throw new Error(`${FILE.pathname}: "partners" must be a list`);
  const entries = new Map<string, RegistryEntry>();
  for (const [index, entry] of document.partners.entries()) {
    const { region, name, format } = (entry ?? {}) as Record<string, unknown>;
    if (typeof region !== 'string' || !/^\d{6}$/.test(region) || typeof name !== 'string' || typeof format !== 'string') {
      throw new Error(`${FILE.pathname}: partners[${index}] needs a six-digit region, a name and a format`);
    }
    entries.set(region, { region, name, format });
  }
  return entries;
}
