import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { compileFormat, parseFormatDocument, type PartnerFormat } from '../../adapters/index.ts';
import { refusedWith } from './support/refusals.ts';

function format(name: string, text: string): PartnerFormat {
  return compileFormat(name, parseFormatDocument(text));
}

const json = (body: Buffer): unknown => JSON.parse(body.toString('utf8'));
const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('The mapping language', () => {
  describe('in a JSON format', () => {
    const demo = format('demo-json', `
mediaType: application/json
charset: UTF-8
codeTables:
  status: { RECEIVED: "1", COMPLETED: "9" }
messages:
  licence.verify:
    request:
      fields:
        head/version: { const: 2, optional: true }       # a JSON number constant; may be absent coming in
        id: verifyNo
        licence/no: licenceNo                            # nested partner objects
        holder:                                           # a group: partner object ⇄ canonical object
          canonical: holder
          fields:
            name: name
            card: { canonical: idType }
            number: idNumber
        ts:                                               # epoch milliseconds, computed by JSONata
          canonical: requestedAt
          toCanonical: $fromMillis($number($), "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01][Z01:01]", "+0800")
          toPartner: $string($toMillis($))
  application.status:
    request:
      fields:
        no: applyNo
        handle: handleNo
        state: { canonical: status, code: status, jsonType: number }
        at: { canonical: statusAt, time: "yyyy-MM-dd'T'HH:mm:ss" }
        note: remark
        licence: { canonical: licenceNo, optional: true }
  application.submit:
    request:
      fields:
        no: applyNo
        item: { fields: { code: itemCode, name: itemName } }
        applicant: { canonical: applicant, fields: { type: type, name: name, idType: idType, idNumber: idNumber, mobile: mobile } }
        accept: acceptRegion
        handle: handleRegion
        at: { canonical: submittedAt, time: yyyyMMddHHmmss }
        files: { each: materials, optional: true, fields: { code: code, name: name, type: mediaType, sha256: sha256, size: { canonical: size, type: integer, jsonType: string }, data: content } }
        totalSize: { toPartner: "$string($sum(materials.size))" }
        params: { entries: form, key: k, value: v }
`);

    it('writes constants, nested objects, groups and computed fields, and reads them back', async () => {
      const canonical = { verifyNo: 'V1', licenceNo: 'L1', holder: { name: '张三', idType: '111', idNumber: '1' }, requestedAt: '2026-11-27T10:15:00+08:00' };
      const partner = await demo.fromCanonical('licence.verify', 'request', canonical);
      assert.deepEqual(json(partner), { head: { version: 2 }, id: 'V1', licence: { no: 'L1' }, holder: { name: '张三', card: '111', number: '1' }, ts: '1795745700000' });
      assert.deepEqual(await demo.toCanonical('licence.verify', 'request', partner), canonical);
    });

    it('accepts an optional constant that is absent, and refuses one that differs', async () => {
      const partner = { id: 'V1', licence: { no: 'L1' }, holder: { name: 'n', card: '111', number: '1' }, ts: '0' };
      assert.equal((await demo.toCanonical('licence.verify', 'request', bytes(partner))).requestedAt, '1970-01-01T08:00:00+08:00');
      await refusedWith('XR_TRANSLATION', demo.toCanonical('licence.verify', 'request', bytes({ ...partner, head: { version: '2' } })));
    });

    it('maps code table values to JSON numbers when jsonType says so, and converts a time in another offset to Beijing time', async () => {
      const partner = json(await demo.fromCanonical('application.status', 'request', { applyNo: 'A', handleNo: 'H', status: 'COMPLETED', statusAt: '2026-11-28T07:00:00Z', remark: '' }));
      assert.deepEqual(partner, { no: 'A', handle: 'H', state: 9, at: '2026-11-28T15:00:00', note: '' });
      await refusedWith('XR_TRANSLATION', demo.toCanonical('application.status', 'request', bytes({ ...partner as object, state: '9' })));
    });

    it('writes entries as an array of key/value objects, an integer as a string, and a total computed for the partner only', async () => {
      const canonical = {
        applyNo: 'A', itemCode: 'I', itemName: 'N', applicant: { type: 'ORG', name: 'n', idType: '001', idNumber: 'x', mobile: 'm' },
        acceptRegion: '320500', handleRegion: '330502', submittedAt: '2026-11-27T09:30:00+08:00',
        materials: [{ code: 'a', name: 'a', mediaType: 't', sha256: 's', size: 3, content: 'YWJj' }, { code: 'b', name: 'b', mediaType: 't', sha256: 's', size: 4, content: 'YWJjZA==' }],
        form: { 面积: '35.5', 'a<b': '"&"' },
      };
      const partner = json(await demo.fromCanonical('application.submit', 'request', canonical)) as Record<string, unknown>;
      assert.deepEqual(partner.item, { code: 'I', name: 'N' });
      assert.deepEqual(partner.params, [{ k: '面积', v: '35.5' }, { k: 'a<b', v: '"&"' }]);
      assert.equal((partner.files as Array<Record<string, unknown>>)[1]!.size, '4');
      assert.equal(partner.totalSize, '7');
      assert.deepEqual(await demo.toCanonical('application.submit', 'request', bytes(partner)), canonical);
    });

    it('leaves out an optional list that is absent, and writes an empty one as []', async () => {
      const base = {
        applyNo: 'A', itemCode: 'I', itemName: 'N', applicant: { type: 'ORG', name: 'n', idType: '001', idNumber: 'x', mobile: 'm' },
        acceptRegion: '1', handleRegion: '2', submittedAt: '2026-11-27T09:30:00+08:00', form: {},
      };
      const absent = json(await demo.fromCanonical('application.submit', 'request', base)) as Record<string, unknown>;
      assert.equal('files' in absent, false);
      assert.deepEqual(absent.params, []);
      assert.deepEqual(await demo.toCanonical('application.submit', 'request', bytes(absent)), base);
      const empty = json(await demo.fromCanonical('application.submit', 'request', { ...base, materials: [] })) as Record<string, unknown>;
      assert.deepEqual(empty.files, []);
    });

    it('reports an expression that fails by its JSONata code, without the value', async () => {
      const partner = { id: 'V1', licence: { no: 'L1' }, holder: { name: 'n', card: '111', number: '1' }, ts: '秘密' };
      const detail = await refusedWith('XR_TRANSLATION', demo.toCanonical('licence.verify', 'request', bytes(partner)));
      assert.doesNotMatch(detail, /秘密/);
      assert.match(detail, /^demo-json licence.verify request: ts \(canonical requestedAt\): /);
    });
  });

  describe('in an XML format', () => {
    const demo = format('demo-xml', `
mediaType: application/xml
charset: GB18030
codeTables:
  valid: { "true": Y, "false": N }
messages:
  licence.verify:
    response:
      root: 结果
      fields:
        "@版本": { const: "2" }
        编号: verifyNo
        证照/@编号: licenceNo
        证照/@有效: { canonical: valid, type: boolean, code: valid }
        证照/名称: { canonical: licenceName, optional: true }
        证照/截止: { canonical: validUntil, date: yyyy年MM月dd日, optional: true }
        说明: message
`);

    it('writes attributes and elements of one element in document order, with Chinese names, in GB18030', async () => {
      const canonical = { verifyNo: 'V1', licenceNo: 'L1', valid: true, licenceName: '许可证', validUntil: '2031-01-05', message: '有效' };
      const partner = await demo.fromCanonical('licence.verify', 'response', canonical);
      assert.equal(iconv.decode(partner, 'gb18030'), '<?xml version="1.0" encoding="GB18030"?>\n'
        + '<结果 版本="2"><编号>V1</编号><证照 编号="L1" 有效="Y"><名称>许可证</名称><截止>2031年01月05日</截止></证照><说明>有效</说明></结果>\n');
      assert.deepEqual(await demo.toCanonical('licence.verify', 'response', partner), canonical);
    });
  });

  describe('with entries', () => {
    const entries = format('demo-entries', `
mediaType: application/xml
charset: UTF-8
messages:
  application.submit:
    request:
      root: 表单
      fields:
        字段: { entries: form, key: "@名", value: . }
`);
    const partner = (names: string[]): Buffer => bytes(`<表单>${names.map((name) => `<字段 名="${name}">${name}值</字段>`).join('')}</表单>`);
    const orderRead = async (names: string[]): Promise<string[]> =>
      Object.keys((await entries.toCanonical('application.submit', 'request', partner(names))).form as object);

    it('keeps entries in order, except keys that are array indices, which come first in numeric order (docs/mapping.md)', async () => {
      assert.deepEqual(await orderRead(['shopName', 'area', '经营范围']), ['shopName', 'area', '经营范围']);
      assert.deepEqual(await orderRead(['shopName', '2', '01', '1', '-1', '10', '1.5', '4294967295', '4294967294']),
        ['1', '2', '10', '4294967294', 'shopName', '01', '-1', '1.5', '4294967295']);
      const canonical = await entries.toCanonical('application.submit', 'request', partner(['shopName', '2', '1']));
      assert.deepEqual(canonical.form, { shopName: 'shopName值', 2: '2值', 1: '1值' });
      const written = (await entries.fromCanonical('application.submit', 'request', canonical)).toString('utf8');
      assert.match(written, /<表单><字段 名="1">1值<\/字段><字段 名="2">2值<\/字段><字段 名="shopName">shopName值<\/字段><\/表单>/);
    });
  });

  it('refuses a date pattern field that is not yyyy, MM or dd', () => {
    assert.throws(() => format('bad', 'mediaType: application/xml\ncharset: UTF-8\nmessages: { licence.verify: { response: { root: R, fields: { D: { canonical: validUntil, date: yyyy年M月d日 } } } } }\n'),
      /"M" is not a field/);
  });
});
