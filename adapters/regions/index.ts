/**
 * The regions the gateway knows: GB/T 2260 six-digit codes with their names, at province, prefecture and
 * county level for the whole country. The data is generated into regions.json by build.ts.
 */
import { readFileSync } from 'node:fs';
import { REGION_CODE } from '../../gateway/protocol/messages.ts';

export class RegionTable {
  static #default: RegionTable | undefined;

  /** The committed table (regions.json), read on first use and shared afterwards. */
  static default(): RegionTable {
    RegionTable.#default ??= RegionTable.fromJson(readFileSync(new URL('./regions.json', import.meta.url), 'utf8'));
    return RegionTable.#default;
  }

  /** A table from `{"330502": "吴兴区", ...}`; refuses anything else, since a bad table would refuse real regions. */
  static fromJson(json: string): RegionTable {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('region table: expected an object of {code: name}');
    }
    return new RegionTable(Object.entries(parsed));
  }

  readonly #names: ReadonlyMap<string, string>;

  constructor(entries: Iterable<readonly [string, unknown]>) {
    const names = new Map<string, string>();
    for (const [code, name] of entries) {
      if (!REGION_CODE.test(code) || typeof name !== 'string' || name === '') {
        throw new Error(`region table: entry ${JSON.stringify(code)} is not a six-digit code with a name`);
      }
      names.set(code, name);
    }
    this.#names = names;
  }

  has(code: string): boolean {
    return this.#names.has(code);
  }

  name(code: string): string | undefined {
    return this.#names.get(code);
  }

  /** The province-level code (e.g. 330000 for 330502) of a region in the table; undefined for unknown codes. */
  provinceOf(code: string): string | undefined {
    if (!this.#names.has(code)) return undefined;
    const province = `${code.slice(0, 2)}0000`;
    return this.#names.has(province) ? province : undefined;
  }
}
