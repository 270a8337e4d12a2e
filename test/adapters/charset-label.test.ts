/**
 * An XML body's charset as its Content-Type labels it (RFC 7303 §3; PROTOCOL §3 "charset as declared"):
 * the label comes before the XML declaration and the family's charset, and a label that disagrees with the
 * declaration is refused — bytes described two ways are never read one way at a guess.
 */
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { FormatRegistry } from '../../adapters/index.ts';
import { refusedWith } from './support/refusals.ts';

const zj = FormatRegistry.withShippedFormats().get('zj-xml')!;
const REQUEST_XML = '<RECORDS><RECORD><PROJID>3304002026112700002</PROJID><MEMO>请补正营业场所证明</MEMO></RECORD></RECORDS>';
const EXPECTED = { applyNo: '3304002026112700002', message: '请补正营业场所证明' };
const read = (body: Buffer, charset?: string) => zj.toCanonical('application.status', 'response', body, { charset });
const declared = (encoding: string) => `<?xml version="1.0" encoding="${encoding}"?>\n${REQUEST_XML}`;

describe('Reading an XML body in the charset its Content-Type names', () => {
  it('reads UTF-8 labelled utf-8 in a GB18030 family, where the family charset would have read it as other, valid text', async () => {
    const body = Buffer.from(REQUEST_XML, 'utf8');
    assert.deepEqual(await read(body, 'utf-8'), EXPECTED);
    assert.notDeepEqual(await read(body), EXPECTED, 'without the label the bytes read as GB18030: the reason the label counts');
  });

  it('reads the label\'s charset whatever its case or spelling, GBK and GB2312 as GBK', async () => {
    for (const label of ['GB18030', 'gb18030', 'GBK', 'gbk', 'GB2312', 'cp936']) {
      assert.deepEqual(await read(iconv.encode(REQUEST_XML, 'gbk'), label), EXPECTED, label);
    }
    assert.deepEqual(await read(Buffer.from(REQUEST_XML, 'utf8'), 'UTF8'), EXPECTED);
  });

  it('reads a label and a declaration that agree, and GBK with GB18030 either way as GB18030', async () => {
    assert.deepEqual(await read(Buffer.from(declared('UTF-8'), 'utf8'), 'utf-8'), EXPECTED);
    assert.deepEqual(await read(iconv.encode(declared('GB18030'), 'gb18030'), 'GB18030'), EXPECTED);
    assert.deepEqual(await read(iconv.encode(declared('GBK'), 'gb18030'), 'GB18030'), EXPECTED);
    assert.deepEqual(await read(iconv.encode(declared('GB18030'), 'gbk'), 'GBK'), EXPECTED);
  });

  it('refuses a label that disagrees with the declaration with XR_MALFORMED', async () => {
    assert.match(await refusedWith('XR_MALFORMED', read(iconv.encode(declared('GB18030'), 'gb18030'), 'utf-8')), /Content-Type says charset=utf-8 but the XML declaration says encoding="GB18030"/);
    await refusedWith('XR_MALFORMED', read(Buffer.from(declared('UTF-8'), 'utf8'), 'GBK'));
  });

  it('refuses a label naming a charset the gateway does not read with XR_MALFORMED (the listener answers 415 before)', async () => {
    for (const label of ['ISO-8859-1', 'Big5', 'x-martian']) {
      assert.match(await refusedWith('XR_MALFORMED', read(iconv.encode(REQUEST_XML, 'gb18030'), label)), /not supported/);
    }
  });

  it('refuses bytes that are not valid in the labelled charset with XR_MALFORMED', async () => {
    await refusedWith('XR_MALFORMED', read(iconv.encode(REQUEST_XML, 'gb18030'), 'utf-8'));
  });
});
