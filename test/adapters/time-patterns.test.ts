import assert from 'node:assert/strict';
import { FormatRegistry } from '../../adapters/index.ts';
import { compileTimePattern, type TimePattern } from '../../adapters/engine/time.ts';
import { timestampProblem } from '../../adapters/validation/timestamp.ts';
import { refusedWith } from './support/refusals.ts';

const formats = FormatRegistry.withShippedFormats();
const sh = formats.get('sh-json')!;
const zj = formats.get('zj-xml')!;

const pattern = compileTimePattern('yyyy-MM-dd HH:mm:ss', 'time') as TimePattern;
const year = (value: number): string => String(value).padStart(4, '0');
const isLeapYear = (value: number): boolean => value % 4 === 0 && (value % 100 !== 0 || value % 400 === 0);
const status = (statusAt: string) => ({ applyNo: '1', handleNo: 'H1', status: 'COMPLETED', statusAt, remark: 'r' });

describe('Partner time patterns', () => {
  it('converts a time in another offset to Beijing time in every year from 0000 to 9999', () => {
    for (let y = 0; y <= 9999; y += 1) {
      assert.equal(pattern.toPartner(`${year(y)}-06-01T00:00:00Z`), `${year(y)}-06-01 08:00:00`);
      assert.equal(pattern.toPartner(`${year(y)}-03-01T00:00:00+09:00`), `${year(y)}-02-${isLeapYear(y) ? 29 : 28} 23:00:00`);
      if (y < 9999) assert.equal(pattern.toPartner(`${year(y)}-12-31T20:00:00Z`), `${year(y + 1)}-01-01 04:00:00`);
    }
  });

  it('takes a 29 February exactly when canonical validation does, in every year', () => {
    for (let y = 0; y <= 9999; y += 1) {
      const canonical = `${year(y)}-02-29T12:00:00+08:00`;
      const valid = timestampProblem(canonical) === null;
      assert.equal(valid, isLeapYear(y), canonical);
      assert.equal(pattern.toPartner(canonical), valid ? `${year(y)}-02-29 12:00:00` : undefined, canonical);
      assert.equal(pattern.toCanonical(`${year(y)}-02-29 12:00:00`), valid ? canonical : undefined, canonical);
    }
  });

  it('writes the years 0000 to 0099 as they are, not as 1900 to 1999', async () => {
    assert.deepEqual(JSON.parse((await sh.fromCanonical('application.status', 'request', status('0050-06-01T00:00:00Z'))).toString()).ztsj, '00500601080000');
    assert.match((await zj.fromCanonical('application.status', 'request', status('0099-12-31T20:00:00Z'))).toString(), /<TRANSACT_TIME>0100-01-01 04:00:00<\/TRANSACT_TIME>/);
    const written = await sh.fromCanonical('application.status', 'request', status('0000-02-29T00:00:00+08:00'));
    assert.equal(JSON.parse(written.toString()).ztsj, '00000229000000');
    assert.equal((await sh.toCanonical('application.status', 'request', written)).statusAt, '0000-02-29T00:00:00+08:00');
  });

  it('refuses a time whose Beijing year four digits cannot carry, with XR_TRANSLATION', async () => {
    await refusedWith('XR_TRANSLATION', sh.fromCanonical('application.status', 'request', status('0000-01-01T00:00:00+09:00')));
    await refusedWith('XR_TRANSLATION', zj.fromCanonical('application.status', 'request', status('9999-12-31T20:00:00Z')));
  });
});
