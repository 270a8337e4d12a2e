import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { shippedFormats } from '../../adapters/index.ts';
import { REPO_ROOT } from './support/fixtures.ts';

describe('The default partner registry (config/partners.default.yaml)', () => {
  const { partners } = YAML.parse(readFileSync(path.join(REPO_ROOT, 'config/partners.default.yaml'), 'utf8')) as {
    partners: Array<{ region: string; name: string; format: string }>;
  };

  it('maps the nine G60 partner regions to their format families', () => {
    assert.deepEqual(partners.map(({ region, name, format }) => `${region} ${name} ${format}`), [
      '310000 上海市 sh-json',
      '310117 上海市松江区 sh-json',
      '330100 杭州市 zj-xml',
      '330400 嘉兴市 zj-xml',
      '330700 金华市 zj-xml',
      '320500 苏州市 js-xml',
      '340100 合肥市 ah-xml',
      '340200 芜湖市 ah-xml',
      '341800 宣城市 ah-xml',
    ]);
  });

  it('names only formats that are shipped, with region codes kept as strings', () => {
    const shipped = shippedFormats();
    for (const partner of partners) {
      assert.equal(typeof partner.region, 'string');
      assert.ok(shipped.has(partner.format), partner.format);
    }
  });
});
