import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { FormatRegistry, type CanonicalMessage } from '../../adapters/index.ts';
import type { Direction, MessageType } from '../../gateway/protocol/messages.ts';
import * as samples from './support/samples.ts';

const formats = FormatRegistry.withShippedFormats();
const FAMILIES = ['hz-json', 'sh-json', 'zj-xml', 'js-xml', 'ah-xml'];

const MESSAGES: Array<[MessageType, Direction, string, CanonicalMessage]> = [
  ['licence.verify', 'request', 'a check of a licence against its holder', samples.licenceVerifyRequest],
  ['licence.verify', 'response', 'a valid licence with its name and end date', samples.licenceVerifyResponse],
  ['licence.verify', 'response', 'an invalid licence without the optional fields', samples.licenceVerifyResponseInvalid],
  ['evaluation.submit', 'request', 'a score with a comment', samples.evaluationSubmitRequest],
  ['evaluation.submit', 'request', 'a score without a comment', samples.evaluationSubmitRequestBare],
  ['evaluation.submit', 'response', 'the acknowledgement', samples.evaluationSubmitResponse],
];

async function partnerText(family: string, messageType: MessageType, direction: Direction, document: CanonicalMessage): Promise<string> {
  const format = formats.get(family)!;
  return iconv.decode(await format.fromCanonical(messageType, direction, document), format.charset);
}

describe('licence.verify and evaluation.submit', () => {
  for (const family of FAMILIES) {
    describe(`in ${family}`, () => {
      for (const [messageType, direction, what, document] of MESSAGES) {
        it(`round-trip ${messageType} ${direction}: ${what}`, async () => {
          const format = formats.get(family)!;
          assert.ok(format.supports(messageType, direction));
          const partner = await format.fromCanonical(messageType, direction, document);
          assert.deepEqual(await format.toCanonical(messageType, direction, partner), document);
        });
      }
    });
  }

  describe('are written in each family\'s own style', () => {
    it('sh-json: pinyin initials, the score a JSON number, validity 1/0, dates without separators', async () => {
      const request = JSON.parse(await partnerText('sh-json', 'evaluation.submit', 'request', samples.evaluationSubmitRequest));
      assert.deepEqual(request, { ywbh: '3304002026112700002', pjdj: 5, pjnr: '办理很快，窗口服务热情', pjsj: '20261128162000' });
      const response = JSON.parse(await partnerText('sh-json', 'licence.verify', 'response', samples.licenceVerifyResponse));
      assert.deepEqual(response, { code: '0000', hcbh: 'HC3305002026112700001', zzbh: 'JY23305020012345', yxbz: '1', zzmc: '食品经营许可证', yxqz: '20311126', msg: '证照有效' });
    });

    it('zj-xml: RECORDS/RECORD in GB18030 with UPPER_SNAKE names', async () => {
      const text = await partnerText('zj-xml', 'licence.verify', 'request', samples.licenceVerifyRequest);
      assert.equal(text, '<?xml version="1.0" encoding="GB18030"?>\n<RECORDS><RECORD><VERIFY_ID>HC3305002026112700001</VERIFY_ID>'
        + '<LICENSE_NO>JY23305020012345</LICENSE_NO><HOLDER_NAME>王芳</HOLDER_NAME><HOLDER_CARDTYPE>身份证</HOLDER_CARDTYPE>'
        + '<HOLDER_CARDNUMBER>330502199003070029</HOLDER_CARDNUMBER><REQUEST_TIME>2026-11-27 10:15:00</REQUEST_TIME></RECORD></RECORDS>\n');
    });

    it('js-xml: the Message/Head/Body envelope with attributes', async () => {
      const text = await partnerText('js-xml', 'evaluation.submit', 'request', samples.evaluationSubmitRequest);
      assert.equal(text, '<?xml version="1.0" encoding="UTF-8"?>\n<Message version="1.0"><Head><MsgType>Evaluation</MsgType></Head>'
        + '<Body><Evaluation no="3304002026112700002" score="5"><Comment>办理很快，窗口服务热情</Comment>'
        + '<Time>2026-11-28 16:20:00</Time></Evaluation></Body></Message>\n');
    });

    it('ah-xml: Chinese names, the score as a 好差评 level, dates in 年月日', async () => {
      const evaluation = await partnerText('ah-xml', 'evaluation.submit', 'request', samples.evaluationSubmitRequestBare);
      assert.equal(evaluation, '<?xml version="1.0" encoding="UTF-8"?>\n<好差评><办件编号>3304002026112700003</办件编号>'
        + '<评价>不满意</评价><评价时间>2026年11月28日16时21分00秒</评价时间></好差评>\n');
      const verify = await partnerText('ah-xml', 'licence.verify', 'response', samples.licenceVerifyResponse);
      assert.match(verify, /<是否有效>是<\/是否有效><证照名称>食品经营许可证<\/证照名称><有效期至>2031年11月26日<\/有效期至>/);
    });
  });
});
