/**
 * The exact details of refusals, which the engine now spells out only when it refuses (translate.ts reads
 * places lazily; xml-parse.ts reads a body again, with line and column, only when sax refuses it).
 */
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { FormatRegistry } from '../../adapters/index.ts';
import { DEFAULT_LIMITS } from '../../adapters/engine/hardening.ts';
import { parseXml } from '../../adapters/engine/xml-parse.ts';
import { isXrError } from '../../gateway/protocol/errors.ts';
import { fixturePairs } from './support/fixtures.ts';
import { refusedWith } from './support/refusals.ts';

const formats = FormatRegistry.withShippedFormats();
const sample = (file: string): string => {
  const pair = fixturePairs().find((candidate) => candidate.partnerFile === file)!;
  return iconv.decode(pair.partner, file.startsWith('zj-xml') ? 'gb18030' : 'utf8');
};
const canonical = (file: string): Record<string, unknown> => fixturePairs().find((candidate) => candidate.partnerFile === file)!.canonical;
const gb18030 = (text: string): Buffer => iconv.encode(text, 'gb18030');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('Details of translation refusals', () => {
  const submit = canonical('js-xml/application.submit.request.xml') as { materials: Array<Record<string, unknown>> };
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    [
      'a missing field names both places',
      () => formats.get('zj-xml')!.toCanonical('application.submit', 'response', gb18030(sample('zj-xml/application.submit.response.xml').replace(/<MEMO>.*<\/MEMO>/, ''))),
      'zj-xml application.submit response: RECORDS/RECORD/MEMO (canonical message): is missing',
    ],
    [
      'a value inside a repeated element names the item on both sides',
      () => formats.get('js-xml')!.toCanonical('application.submit', 'request', utf8(sample('js-xml/application.submit.request.xml').replace('size="31"', 'size="031"'))),
      'js-xml application.submit request: Message/Body/Apply/Materials/Material[1]/@size (canonical materials[0].size): is not an integer',
    ],
    [
      'an incomplete form entry names the entry',
      () => formats.get('zj-xml')!.toCanonical('application.submit', 'request', gb18030(sample('zj-xml/application.submit.request.xml').replace('<FIELD NAME="area">', '<FIELD>'))),
      'zj-xml application.submit request: RECORDS/RECORD/FORM/FIELD[2] (canonical form): an entry needs @NAME and .',
    ],
    [
      'a JSON array item that is not an object names its position',
      () => formats.get('sh-json')!.toCanonical('application.submit', 'request', utf8(sample('sh-json/application.submit.request.json').replace(/"clxx":\s*\[/, '"clxx": [1, '))),
      'sh-json application.submit request: clxx (canonical materials)[1]: must be an object',
    ],
    [
      'a canonical item that is not an object names its position',
      () => formats.get('js-xml')!.fromCanonical('application.submit', 'request', { ...submit, materials: [submit.materials[0], 'x'] }),
      'js-xml application.submit request: Message/Body/Apply/Materials/Material (canonical materials)[1]: must be an object',
    ],
    [
      'a wrongly typed canonical value in an item names the item on both sides',
      () => formats.get('zj-xml')!.fromCanonical('application.submit', 'request', { ...submit, materials: [submit.materials[0], { ...submit.materials[0], size: '1' }] }),
      'zj-xml application.submit request: RECORDS/RECORD/ATTRS/ATTR[2]/AMOUNT (canonical materials[1].size): must be an integer',
    ],
    [
      'a fixed value that differs names the partner place only',
      () => formats.get('js-xml')!.toCanonical('application.status', 'response', utf8(sample('js-xml/application.status.response.xml').replace('<MsgType>Ack', '<MsgType>ApplyReceipt'))),
      'js-xml application.status response: Message/Head/MsgType: must be "Ack"',
    ],
  ];
  for (const [what, translation, detail] of cases) {
    it(`${what}`, async () => {
      assert.equal(await refusedWith('XR_TRANSLATION', translation()), detail);
    });
  }
});

describe('Reading partner XML', () => {
  const refusal = (text: string): string => {
    try {
      parseXml(text, DEFAULT_LIMITS);
    } catch (error) {
      assert.ok(isXrError(error) && error.code === 'XR_MALFORMED', String(error));
      return error.detail;
    }
    assert.fail('the XML was accepted');
  };

  it('says where XML that is not well formed goes wrong, line and column, counting CR LF as one line break', () => {
    assert.equal(refusal('<回执><说明>x</办件编号></回执>'), 'the XML is not well formed: unexpected close tag (line 1, column 16)');
    assert.equal(refusal('<回执>\r\n  <说明>x</说明>\r\n  <a b="1" b2=1/>\r\n</回执>'), 'the XML is not well formed: unquoted attribute value (line 3, column 15)');
    assert.equal(refusal('<回执>\n<说明>a & b</说明></回执>'), 'the XML is not well formed: an & that starts no entity or character reference (line 2, column 7): write it as &amp;');
    assert.equal(refusal('<回执><办件编号>1</办件编号>'), 'the XML is not well formed: unclosed tag: 回执 (line 1, column 18)');
    assert.equal(refusal('<回执 a="1"b="2"/>'), 'the XML is not well formed: no whitespace between attributes (line 1, column 10)');
    assert.equal(refusal('<回执>&未知;</回执>'), 'the XML is not well formed: undefined entity (line 1, column 8)');
    assert.equal(refusal('<回执>\u0001</回执>'), 'the XML is not well formed: disallowed character (line 1, column 5)');
    // An & inside a CDATA section is text: the problem named is the real one.
    assert.equal(refusal('<回执><![CDATA[a & b]]></说明>'), 'the XML is not well formed: unexpected close tag (line 1, column 26)');
  });

  it('refuses a refused attribute name wherever it stands in a tag, also in a self-closing one', () => {
    assert.equal(refusal('<回执><x a="1" b="2" __proto__="3" c="4"/></回执>'), 'the attribute name __proto__ is not accepted');
    assert.equal(refusal('<回执 valueOf="1"><x/></回执>'), 'the attribute name valueOf is not accepted');
  });

  it('counts attributes over the whole body', () => {
    const limits = { maxDepth: 32, maxElements: 4 };
    assert.doesNotThrow(() => parseXml('<a x="1" y="2"><b x="1"/><b y="2"/></a>', limits));
    assert.throws(() => parseXml('<a x="1" y="2"><b x="1"/><b y="2" z="3"/></a>', limits), /more than 4 attributes/);
  });

  it('takes attributes from tags only: text that looks like one in a comment, CDATA section or processing instruction is not one', () => {
    const root = parseXml('<?pi __proto__="1"?><a><!-- <b __proto__="1"/> --><![CDATA[<c __proto__="1"/>]]></a>', DEFAULT_LIMITS);
    assert.deepEqual({ name: root.name, attributes: root.attributes, text: root.text }, { name: 'a', attributes: undefined, text: '<c __proto__="1"/>' });
  });

  it('keeps each attribute, in document order, on its own element', () => {
    const root = parseXml('<a z="1" y="2"><b/><c x="3"/></a>', DEFAULT_LIMITS);
    assert.deepEqual([...root.attributes!], [['z', '1'], ['y', '2']]);
    assert.equal(root.children[0]!.attributes, undefined);
    assert.deepEqual([...root.children[1]!.attributes!], [['x', '3']]);
  });
});
