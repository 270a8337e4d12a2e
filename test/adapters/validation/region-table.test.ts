import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegionTable } from '../../../adapters/regions/index.ts';
import { canonicalFixtures, fixturesDir } from './fixtures.ts';

describe('the region table (GB/T 2260 codes, adapters/regions)', () => {
  const regions = RegionTable.default();

  it('knows every region code that appears in the samples', () => {
    const codes = new Set<string>();
    for (const { doc } of canonicalFixtures()) {
      for (const code of [doc['acceptRegion'], doc['handleRegion']]) if (typeof code === 'string') codes.add(code);
      // The address code of a sample identity number (characters 1–6) or credit code (characters 3–8).
      const applicant = doc['applicant'] as { idType: string; idNumber: string } | undefined;
      if (applicant?.idType === '111') codes.add(applicant.idNumber.slice(0, 6));
      if (applicant?.idType === '001') codes.add(applicant.idNumber.slice(2, 8));
    }
    for (const family of readdirSync(fixturesDir, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
      codes.add(readFileSync(join(fixturesDir, family.name, 'region.txt'), 'utf8').trim());
    }
    // The regions the fixtures README assigns to each partner format.
    for (const code of ['310000', '310117', '330100', '330400', '330700', '320500', '340100', '340200', '341800']) codes.add(code);
    assert.ok(codes.size >= 10);
    for (const code of codes) assert.ok(regions.has(code), `region table lacks ${code}`);
  });

  it('names the provinces, prefectures and districts of the pilot', () => {
    const expected: Record<string, string> = {
      '330000': '浙江省',
      '330500': '湖州市',
      '330502': '吴兴区',
      '310000': '上海市',
      '310117': '松江区',
      '320000': '江苏省',
      '320500': '苏州市',
      '340000': '安徽省',
      '341800': '宣城市',
      '341802': '宣州区',
    };
    for (const [code, name] of Object.entries(expected)) assert.equal(regions.name(code), name, code);
  });

  it("includes Shanghai's municipal levels 310000 and 310100", () => {
    assert.ok(regions.has('310000'));
    assert.ok(regions.has('310100'));
  });

  it('covers the whole country down to counties', () => {
    assert.equal(regions.name('110101'), '东城区');
    assert.equal(regions.name('650000'), '新疆维吾尔自治区');
    assert.equal(regions.name('441900'), '东莞市');
  });

  it('gives the province of a known region and nothing for an unknown one', () => {
    assert.equal(regions.provinceOf('330502'), '330000');
    assert.equal(regions.provinceOf('310000'), '310000');
    assert.equal(regions.provinceOf('341800'), '340000');
    assert.equal(regions.provinceOf('990000'), undefined);
    assert.equal(regions.provinceOf('330599'), undefined);
  });

  it('does not know codes that are not current regions', () => {
    for (const code of ['000000', '990000', '330621', '33050', '3305020', 'abcdef', '']) {
      assert.equal(regions.has(code), false, code);
      assert.equal(regions.name(code), undefined, code);
    }
  });

  it('loads the committed table only once', () => {
    assert.equal(RegionTable.default(), regions);
  });

  it('refuses a table that is not an object of six-digit codes to names', () => {
    assert.throws(() => RegionTable.fromJson('[]'), /expected an object/);
    assert.throws(() => RegionTable.fromJson('{"3305": "湖州市"}'), /six-digit code/);
    assert.throws(() => RegionTable.fromJson('{"330500": ""}'), /six-digit code/);
    assert.equal(RegionTable.fromJson('{"330500": "湖州市"}').name('330500'), '湖州市');
  });
});
