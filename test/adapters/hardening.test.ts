import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { FormatRegistry } from '../../adapters/index.ts';
import { fixturePairs } from './support/fixtures.ts';
import { refusedWith } from './support/refusals.ts';

const formats = FormatRegistry.withShippedFormats();
const zj = formats.get('zj-xml')!;
const js = formats.get('js-xml')!;
const ah = formats.get('ah-xml')!;
const sh = formats.get('sh-json')!;

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const gb18030 = (text: string): Buffer => iconv.encode(text, 'gb18030');
const ackXml = (inner: string, root = '回执'): Buffer => utf8(`<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${inner}</${root}>`);
const ACK = '<办件编号>3401002026112700004</办件编号><说明>已收到</说明>';

describe('Hardening of partner XML', () => {
  it('refuses a DOCTYPE with XR_MALFORMED', async () => {
    const body = utf8(`<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE 回执>\n<回执>${ACK}</回执>`);
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', body));
  });

  it('refuses entity declarations, including the billion laughs, with XR_MALFORMED', async () => {
    const laughs = '<!DOCTYPE 回执 [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>';
    const body = utf8(`<?xml version="1.0" encoding="UTF-8"?>\n${laughs}<回执><办件编号>&lol2;</办件编号><说明>x</说明></回执>`);
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', body));
  });

  const misplacedDeclarations: Array<[string, string]> = [
    ['a DOCTYPE whose internal subset quotes "]>"', `<!DOCTYPE 回执 [<!ENTITY x "]>">]><回执>${ACK}</回执>`],
    ['a DOCTYPE after the root element', `<回执>${ACK}</回执><!DOCTYPE 回执>`],
    ['a DOCTYPE inside an element', `<回执>${ACK}<!DOCTYPE 回执></回执>`],
    ['an entity declaration outside a DOCTYPE', `<!ENTITY x "y"><回执>${ACK}</回执>`],
  ];
  for (const [what, text] of misplacedDeclarations) {
    it(`refuses ${what} with XR_MALFORMED`, async () => {
      await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', utf8(text)));
    });
  }

  it('reads "<!DOCTYPE" and "<!ENTITY" in a CDATA section, a comment or a processing instruction as what they are', async () => {
    const note = '<!DOCTYPE html> 网页 <!ENTITY x "y">';
    const body = ackXml(`<?note <!DOCTYPE x>?><!-- <!ENTITY> <!DOCTYPE 回执> --><办件编号>3401002026112700004</办件编号><说明><![CDATA[${note}]]></说明>`);
    assert.deepEqual(await ah.toCanonical('application.status', 'response', body), { applyNo: '3401002026112700004', message: note });
    const zjStatus = gb18030('<?xml version="1.0" encoding="GB18030"?>\n<RECORDS><!-- <!ENTITY> --><RECORD><PROJID>1</PROJID><MEMO><![CDATA[<!DOCTYPE html> 网页]]></MEMO></RECORD></RECORDS>');
    assert.deepEqual(await zj.toCanonical('application.status', 'response', zjStatus), { applyNo: '1', message: '<!DOCTYPE html> 网页' });
  });

  it('refuses a reference to an undeclared entity with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', ackXml('<办件编号>&x;</办件编号><说明>x</说明>')));
  });

  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__text__']) {
    it(`refuses an element named ${name} with XR_MALFORMED`, async () => {
      await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', ackXml(`${ACK}<${name}>x</${name}>`)));
    });
  }

  for (const name of ['__proto__', 'constructor', 'toString', 'valueOf']) {
    it(`refuses an attribute named ${name} with XR_MALFORMED`, async () => {
      const body = utf8(`<?xml version="1.0" encoding="UTF-8"?>\n<回执 a=">" ${name}="x">${ACK}</回执>`);
      await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', body));
    });
  }

  it('refuses elements nested deeper than the limit with XR_MALFORMED', async () => {
    const depth = 40;
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', ackXml(`${ACK}${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`)));
  });

  it('refuses a very deep body quickly, without exhausting the stack', async () => {
    const depth = 200_000;
    const started = Date.now();
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', ackXml(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`)));
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses more elements than the limit with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', ackXml(`${ACK}${'<x/>'.repeat(10_001)}`)));
  });

  it('refuses more attributes than the limit with XR_MALFORMED, even in one huge tag', async () => {
    const attributes = (count: number): string => Array.from({ length: count }, (_, index) => `a${index}="${index}"`).join(' ');
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', ackXml(`${ACK}${'<x a="1" b=\'2\'/>'.repeat(5_001)}`)));
    await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', utf8(`<回执 ${attributes(1_000_000)}>${ACK}</回执>`)));
  });

  it('accepts a body just inside the limits', async () => {
    const canonical = await ah.toCanonical('application.status', 'response', ackXml(`${ACK}${'<x/>'.repeat(9_000)}${'<a>'.repeat(30)}${'</a>'.repeat(30)}`));
    assert.deepEqual(canonical, { applyNo: '3401002026112700004', message: '已收到' });
  });

  const malformed: Array<[string, string]> = [
    ['an empty body', ''],
    ['whitespace only', '  \n'],
    ['an unclosed root', '<回执><办件编号>1</办件编号>'],
    ['a mismatched close tag', '<回执><说明>x</办件编号></回执>'],
    ['two root elements', `<回执>${ACK}</回执><回执>${ACK}</回执>`],
    ['text after the root', `<回执>${ACK}</回执>junk`],
    ['a bare ampersand', '<回执><办件编号>a & b</办件编号><说明>x</说明></回执>'],
    ['JSON sent to an XML format', '{"ywbh": "1"}'],
  ];
  for (const [what, text] of malformed) {
    it(`refuses ${what} with XR_MALFORMED`, async () => {
      await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', utf8(text)));
    });
  }

  it('reads a pretty-printed message: whitespace between elements is not text', async () => {
    const body = utf8('<?xml version="1.0" encoding="UTF-8"?>\r\n<Message version="1.0">\r\n  <Head>\n    <MsgType>Ack</MsgType>\n  </Head>\n'
      + '  <Body>\n    <Ack no="1">\n      <Note> 已收到 </Note>\n    </Ack>\n  </Body>\n</Message>\n');
    assert.deepEqual(await js.toCanonical('application.status', 'response', body), { applyNo: '1', message: ' 已收到 ' });
  });

  it('does not quote the body in its refusal', async () => {
    const detail = await refusedWith('XR_MALFORMED', ah.toCanonical('application.status', 'response', utf8('<回执><说明>秘密内容 & more</说明></回执>')));
    assert.doesNotMatch(detail, /秘密|more/);
  });
});

describe('Hardening of partner JSON', () => {
  const STATUS_ACK = { code: '0000', ywbh: '3101172026112700001', msg: '已收到' };

  it('refuses a __proto__ key at the top with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', utf8('{"__proto__": {"polluted": true}, "code": "0000", "ywbh": "1", "msg": "x"}')));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses prototype names as keys anywhere, also in hz-json, with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', utf8(JSON.stringify({ ...STATUS_ACK, extra: [{ constructor: 'x' }] }))));
    await refusedWith('XR_MALFORMED', formats.get('hz-json')!.toCanonical('application.status', 'response', utf8('{"applyNo": "1", "message": "x", "a": {"__proto__": 1}}')));
  });

  it('refuses nesting deeper than the limit with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', utf8(`{"a": ${'['.repeat(40)}${']'.repeat(40)}}`)));
    await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', utf8(`${'['.repeat(500_000)}${']'.repeat(500_000)}`)));
  });

  it('refuses more values than the limit with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', utf8(JSON.stringify({ ...STATUS_ACK, list: Array(10_001).fill(0) }))));
  });

  it('refuses JSON that does not parse with XR_MALFORMED, without quoting it', async () => {
    const detail = await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', utf8('{"ywbh": "秘密", msg}')));
    assert.doesNotMatch(detail, /秘密/);
  });

  const STATUS = '{"ywbh": "3101172026112700001", "blbh": "HZ3305022026112700001", "zt": "11", "ztsj": "20261128150000", "bz": "办结"}';
  const shSubmit = fixturePairs().find((pair) => pair.partnerFile === 'sh-json/application.submit.request.json')!;
  const withText = (from: string, to: string): Buffer => {
    const text = shSubmit.partner.toString('utf8');
    assert.ok(text.includes(from), `the sample holds ${from}`);
    return utf8(text.replace(from, to));
  };

  const repeatedKeys: Array<[string, () => Promise<unknown>]> = [
    ['at the top', () => sh.toCanonical('application.status', 'request', utf8(STATUS.replace('"bz"', '"zt": "04", "bz"')))],
    ['inside the form object', () => sh.toCanonical('application.submit', 'request', withText('"area": "35.5"', '"area": "35.5", "area": "99"'))],
    ['inside an item of a list', () => sh.toCanonical('application.submit', 'request', withText('"dx": 31,', '"dx": 31, "dx": 32,'))],
    ['spelt once with an escape', () => sh.toCanonical('application.submit', 'request', withText('"area": "35.5"', '"area": "35.5", "\\u0061rea": "99"'))],
    ['in a value the mapping never reads', () => sh.toCanonical('application.status', 'request', utf8(STATUS.replace('}', ', "extra": {"a": {"x": 1}, "a": {"y": 2}}}')))],
    ['in hz-json, where the body passes through', () => formats.get('hz-json')!.toCanonical('application.status', 'response', utf8('{"applyNo": "1", "message": "x", "message": "y"}'))],
  ];
  for (const [where, translation] of repeatedKeys) {
    it(`refuses a key given twice in one object, ${where}, with XR_MALFORMED`, async () => {
      assert.match(await refusedWith('XR_MALFORMED', translation()), /gives the same key twice/);
    });
  }

  it('still reads equal keys in different objects, and keys, colons and quotes inside strings', async () => {
    assert.deepEqual(await sh.toCanonical('application.submit', 'request', shSubmit.partner), shSubmit.canonical);
    const material = JSON.parse(shSubmit.partner.toString('utf8')).clxx[0];
    const twoMaterials = await sh.toCanonical('application.submit', 'request', withText('"clxx": [', `"clxx": [${JSON.stringify(material)}, `));
    assert.deepEqual(twoMaterials.materials, [...shSubmit.canonical.materials as unknown[], ...shSubmit.canonical.materials as unknown[]]);
    const remark = 'a "bz": "x" \\", "zt": "04", "bz": 备注 12:30';
    const canonical = await sh.toCanonical('application.status', 'request', utf8(STATUS.replace('"办结"', JSON.stringify(remark))));
    assert.deepEqual(canonical, { applyNo: '3101172026112700001', handleNo: 'HZ3305022026112700001', status: 'COMPLETED', statusAt: '2026-11-28T15:00:00+08:00', remark });
    const receipt = { applyNo: '1', message: 'x', receivedAt: '2026-11-27T09:31:00+08:00' };
    assert.deepEqual(await formats.get('hz-json')!.toCanonical('application.submit', 'response', utf8(JSON.stringify(receipt))), receipt);
  });

  it('refuses a body that is JSON but not an object with XR_TRANSLATION', async () => {
    await refusedWith('XR_TRANSLATION', sh.toCanonical('application.status', 'response', utf8('[1, 2]')));
  });
});

describe('Charsets of partner bodies', () => {
  const ZJ_ACK = '<RECORDS><RECORD><PROJID>3304002026112700002</PROJID><MEMO>已收到</MEMO></RECORD></RECORDS>';

  it('refuses bytes that are not GB18030 in a GB18030 family with XR_MALFORMED', async () => {
    const body = Buffer.concat([gb18030('<?xml version="1.0" encoding="GB18030"?>\n<RECORDS><RECORD><PROJID>1</PROJID><MEMO>'), Buffer.from([0x81, 0x20, 0xff]), gb18030('</MEMO></RECORD></RECORDS>')]);
    await refusedWith('XR_MALFORMED', zj.toCanonical('application.status', 'response', body));
  });

  it('refuses GB18030 bytes in a UTF-8 family with XR_MALFORMED, XML and JSON alike', async () => {
    await refusedWith('XR_MALFORMED', js.toCanonical('application.status', 'response',
      gb18030('<?xml version="1.0" encoding="UTF-8"?>\n<Message version="1.0"><Head><MsgType>Ack</MsgType></Head><Body><Ack no="1"><Note>已收到</Note></Ack></Body></Message>')));
    await refusedWith('XR_MALFORMED', sh.toCanonical('application.status', 'response', gb18030('{"code": "0000", "ywbh": "1", "msg": "已收到"}')));
  });

  it('honours an XML declaration naming another encoding the gateway reads (UTF-8, GB18030, GBK)', async () => {
    const expected = { applyNo: '3304002026112700002', message: '已收到' };
    assert.deepEqual(await zj.toCanonical('application.status', 'response', utf8(`<?xml version="1.0" encoding="UTF-8"?>\n${ZJ_ACK}`)), expected);
    assert.deepEqual(await zj.toCanonical('application.status', 'response', iconv.encode(`<?xml version="1.0" encoding="GBK"?>\n${ZJ_ACK}`, 'gbk')), expected);
    const jsAck = '<Message version="1.0"><Head><MsgType>Ack</MsgType></Head><Body><Ack no="1"><Note>已收到</Note></Ack></Body></Message>';
    assert.deepEqual(await js.toCanonical('application.status', 'response', gb18030(`<?xml version="1.0" encoding="gb18030"?>\n${jsAck}`)), { applyNo: '1', message: '已收到' });
  });

  it('decodes with the family charset when the body has no declaration, and drops a byte-order mark', async () => {
    assert.deepEqual(await zj.toCanonical('application.status', 'response', gb18030(ZJ_ACK)), { applyNo: '3304002026112700002', message: '已收到' });
    assert.deepEqual(await js.toCanonical('application.status', 'response', utf8('\uFEFF<Message version="1.0"><Head><MsgType>Ack</MsgType></Head><Body><Ack no="1"><Note>x</Note></Ack></Body></Message>')), { applyNo: '1', message: 'x' });
  });

  it('refuses an XML declaration naming an encoding the gateway does not read with XR_MALFORMED, known to iconv-lite or not', async () => {
    await refusedWith('XR_MALFORMED', zj.toCanonical('application.status', 'response', utf8(`<?xml version="1.0" encoding="X-MARTIAN"?>\n${ZJ_ACK}`)));
    // GB18030 bytes would read as valid Latin-1 or Big5 text, and wrong: never read at a guess.
    for (const encoding of ['ISO-8859-1', 'windows-1252', 'Big5', 'EUC-KR', 'binary']) {
      assert.match(await refusedWith('XR_MALFORMED', zj.toCanonical('application.status', 'response', gb18030(`<?xml version="1.0" encoding="${encoding}"?>\n${ZJ_ACK}`))), /not supported/);
    }
  });

  it('keeps a real U+FFFD, which is valid GB18030', async () => {
    const canonical = await zj.toCanonical('application.status', 'response', gb18030(`<RECORDS><RECORD><PROJID>1</PROJID><MEMO>\uFFFD</MEMO></RECORD></RECORDS>`));
    assert.equal(canonical.message, '\uFFFD');
  });
});

describe('Partner bodies that parse but do not fit the mapping', () => {
  const sample = (file: string): string => {
    const pair = fixturePairs().find((candidate) => candidate.partnerFile === file)!;
    return iconv.decode(pair.partner, file.startsWith('zj-xml') ? 'gb18030' : 'utf8');
  };
  const zjReceipt = sample('zj-xml/application.submit.response.xml');
  const zjSubmit = sample('zj-xml/application.submit.request.xml');
  const changed = (text: string, from: string, to: string): Buffer => {
    assert.ok(text.includes(from), `the sample holds ${from}`);
    return (text.includes('GB18030') ? gb18030 : utf8)(text.replace(from, to));
  };

  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['a missing required field', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '<MEMO>已接收，待受理</MEMO>', '')), /RECORDS\/RECORD\/MEMO \(canonical message\): is missing/],
    ['a value that is not in the code table', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '<STATE>1</STATE>', '<STATE>99</STATE>')), /STATE \(canonical status\): is not a value of code table status/],
    ['a date that is not on the calendar', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '2026-11-27', '2026-02-30')), /RECEIVETIME .*is not a time in the form "yyyy-MM-dd HH:mm:ss"/],
    ['a time in another layout', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '2026-11-27 09:31:00', '20261127093100')), /RECEIVETIME/],
    ['a root element of another message', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt.replace('</RECORDS>', '</OTHER>'), '<RECORDS>', '<OTHER>')), /root element must be RECORDS/],
    ['a repeated element where one is expected', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '</RECORD>', '<MEMO>again</MEMO></RECORD>')), /MEMO occurs more than once/],
    ['two RECORD elements in one message', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '</RECORD>', '</RECORD><RECORD/>')), /RECORD occurs more than once/],
    ['a size that is not a plain integer', () => js.toCanonical('application.submit', 'request', changed(sample('js-xml/application.submit.request.xml'), 'size="31"', 'size="31.0"')), /Material\[1\]\/@size \(canonical materials\[0\]\.size\): is not an integer/],
    ['a size sent as a string in JSON', () => sh.toCanonical('application.submit', 'request', changed(sample('sh-json/application.submit.request.json'), '"dx": 31', '"dx": "31"')), /clxx\[1\]\/dx \(canonical materials\[0\]\.size\): must be a number/],
    ['a fixed value that differs', () => sh.toCanonical('application.status', 'response', changed(sample('sh-json/application.status.response.json'), '"0000"', '"9999"')), /code: must be "0000"/],
    ['another message type in the envelope', () => js.toCanonical('application.status', 'response', changed(sample('js-xml/application.status.response.xml'), '<MsgType>Ack', '<MsgType>ApplyReceipt')), /Head\/MsgType: must be "Ack"/],
    ['a form entry without its key', () => zj.toCanonical('application.submit', 'request', changed(zjSubmit, '<FIELD NAME="area">', '<FIELD>')), /FORM\/FIELD\[2\] \(canonical form\): an entry needs @NAME and \./],
    ['a form key given twice', () => ah.toCanonical('application.submit', 'request', changed(sample('ah-xml/application.submit.request.xml'), '名="area"', '名="shopName"')), /表单\/字段 \(canonical form\): a key occurs more than once/],
    // In a request the element is already outside the mapping's shape (shape.ts); in an answer, which is not
    // held to it, the value that holds it is refused.
    ['a value that also holds elements (mixed content), in a request', () => js.toCanonical('application.status', 'request', changed(sample('js-xml/application.status.request.xml'), '<Note>办结，证照已寄出</Note>', '<Note>不予<b>办结</b>受理</Note>')), /Body\/Status\/Note\/b is not in the format's mapping/],
    ['a value that also holds elements (mixed content), in an answer', () => ah.toCanonical('application.status', 'response', ackXml('<办件编号>3401002026112700004</办件编号><说明>不予<b>办结</b>受理</说明>')), /说明 \(canonical message\): holds the element b where only text is expected/],
    ['an identifier that also holds elements', () => zj.toCanonical('application.submit', 'response', changed(zjReceipt, '<PROJID>3304002026112700002</PROJID>', '<PROJID>33<B>99</B>04</PROJID>')), /RECORDS\/RECORD\/PROJID \(canonical applyNo\): holds the element B/],
    ['a form entry whose text also holds an element', () => zj.toCanonical('application.submit', 'request', changed(zjSubmit, '<FIELD NAME="area">35.5</FIELD>', '<FIELD NAME="area">35<i/>.5</FIELD>')), /FORM\/FIELD\/i is not in the format's mapping/],
    ['a form key that is a prototype name', () => zj.toCanonical('application.submit', 'request', changed(zjSubmit, 'NAME="area"', 'NAME="__proto__"')), /the key __proto__ is not accepted/],
  ];
  for (const [what, translation, detail] of cases) {
    it(`refuses ${what} with XR_TRANSLATION naming the place`, async () => {
      assert.match(await refusedWith('XR_TRANSLATION', translation()), detail);
    });
  }

  it('still reads markup written as text, and the attributes of an element that holds elements', async () => {
    const note = changed(sample('js-xml/application.status.request.xml'), '<Note>办结，证照已寄出</Note>', '<Note>不予&lt;b&gt;办结&lt;/b&gt;<![CDATA[<i>受理</i>]]></Note>');
    const canonical = await js.toCanonical('application.status', 'request', note);
    assert.equal(canonical.remark, '不予<b>办结</b><i>受理</i>');
    assert.equal(canonical.applyNo, '3205002026112700003');
  });

  it('refuses a message type the format does not map with XR_TRANSLATION', async () => {
    const narrow = new FormatRegistry(new Map([['narrow', 'mediaType: application/json\ncharset: UTF-8\nmessages:\n  application.status:\n    response:\n      fields:\n        msg: message\n']]));
    assert.equal(narrow.get('narrow')!.supports('licence.verify', 'request'), false);
    await refusedWith('XR_TRANSLATION', narrow.get('narrow')!.toCanonical('licence.verify', 'request', utf8('{}')));
  });
});

describe('Canonical documents that cannot be written', () => {
  const ack = { applyNo: '1', message: '已收到' };

  it('refuses a character XML 1.0 cannot carry with XR_TRANSLATION', async () => {
    await refusedWith('XR_TRANSLATION', js.fromCanonical('application.status', 'response', { ...ack, message: 'bell \u0007' }));
    await refusedWith('XR_TRANSLATION', ah.fromCanonical('application.status', 'response', { ...ack, message: 'lone \uD800 surrogate' }));
  });

  it('refuses a character the charset cannot represent with XR_TRANSLATION, never a silent "?"', async () => {
    const gbk = new FormatRegistry(new Map([['zj-gbk', (formats.source('zj-xml') ?? '').replace('name: zj-xml', 'name: zj-gbk').replace('charset: GB18030', 'charset: GBK')]])).get('zj-gbk')!;
    assert.equal(gbk.charset, 'GBK');
    const detail = await refusedWith('XR_TRANSLATION', gbk.fromCanonical('application.status', 'response', { ...ack, message: '𠀀' }));
    assert.match(detail, /U\+20000 cannot be represented in GBK/);
    const written = await gbk.fromCanonical('application.status', 'response', { ...ack, message: '䶮' });
    assert.equal(iconv.decode(written, 'gbk').includes('䶮'), true);
  });

  it('refuses a wrongly typed canonical field with XR_TRANSLATION', async () => {
    await refusedWith('XR_TRANSLATION', sh.fromCanonical('evaluation.submit', 'request', { applyNo: '1', score: '5', evaluatedAt: '2026-11-28T16:20:00+08:00' }));
    await refusedWith('XR_TRANSLATION', sh.fromCanonical('evaluation.submit', 'request', { applyNo: '1', score: 4.5, evaluatedAt: '2026-11-28T16:20:00+08:00' }));
    await refusedWith('XR_TRANSLATION', sh.fromCanonical('application.status', 'response', { applyNo: 1, message: 'x' }));
  });

  it('refuses a time that is not RFC 3339 or has a fraction a partner cannot carry', async () => {
    const verify = { verifyNo: '1', licenceNo: 'L', holder: { idType: '111', idNumber: '1', name: 'n' } };
    await refusedWith('XR_TRANSLATION', zj.fromCanonical('licence.verify', 'request', { ...verify, requestedAt: '2026-11-27 10:15:00' }));
    await refusedWith('XR_TRANSLATION', zj.fromCanonical('licence.verify', 'request', { ...verify, requestedAt: '2026-11-27T10:15:00.5+08:00' }));
    await refusedWith('XR_TRANSLATION', zj.fromCanonical('licence.verify', 'request', { ...verify, requestedAt: '2026-11-27T10:15:00-00:00' }));
  });

  it('refuses a missing required field and a form key that is a prototype name', async () => {
    await refusedWith('XR_TRANSLATION', zj.fromCanonical('application.status', 'response', { applyNo: '1' }));
    const form = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    const detail = await refusedWith('XR_TRANSLATION', js.fromCanonical('application.submit', 'request', {
      applyNo: '1', itemCode: 'i', itemName: 'n', acceptRegion: '1', handleRegion: '2', submittedAt: '2026-11-27T09:30:00+08:00',
      applicant: { type: 'PERSON', name: 'n', idType: '111', idNumber: '1', mobile: '1' }, materials: [], form,
    }));
    assert.match(detail, /form/);
  });
});
