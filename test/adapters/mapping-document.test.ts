import assert from 'node:assert/strict';
import { compileFormat, FormatDocumentError, FormatRegistry, parseFormatDocument, shippedFormats } from '../../adapters/index.ts';

/** A small valid XML format; each test breaks one thing in it. */
const GOOD = `
name: demo-xml
mediaType: application/xml
charset: UTF-8
codeTables:
  idType: { "111": SFZ, "001": XYDM }
messages:
  licence.verify:
    request:
      root: Verify
      fields:
        "@no": verifyNo
        Licence: licenceNo
        Holder:
          canonical: holder
          fields:
            Name: name
            Card/@type: { canonical: idType, code: idType }
            Card/@number: idNumber
        Time: { canonical: requestedAt, time: "yyyy-MM-dd HH:mm:ss" }
`;

function compileText(text: string, name = 'demo-xml') {
  return compileFormat(name, parseFormatDocument(text));
}

function refusal(text: string, name = 'demo-xml'): FormatDocumentError {
  try {
    compileText(text, name);
  } catch (error) {
    assert.ok(error instanceof FormatDocumentError, `expected a FormatDocumentError, got ${String(error)}`);
    assert.equal(error.code, 'XR_BAD_REQUEST');
    return error;
  }
  assert.fail('the document compiled');
}

const FIELDS = 'messages["licence.verify"].request.fields';

describe('Compiling a mapping document', () => {
  it('compiles the sample document and every shipped format', () => {
    assert.equal(compileText(GOOD).name, 'demo-xml');
    for (const [name, text] of shippedFormats()) assert.equal(compileText(text, name).name, name);
  });

  it('reads the same document written as JSON', () => {
    const asJson = JSON.stringify(parseFormatDocument(GOOD));
    assert.equal(compileText(asJson).mediaType, 'application/xml');
  });

  const refusals: Array<[string, string, string]> = [
    ['an unknown code table, naming the tables the document has', GOOD.replace('code: idType', 'code: idTyp'),
      `${FIELDS}.Holder.fields["Card/@type"].code: unknown code table "idTyp" (defined: idType)`],
    ['a partner path with an empty step', GOOD.replace('Card/@number', 'Card//@number'),
      `${FIELDS}.Holder.fields["Card//@number"]: bad partner path: a step is empty (leading, trailing or doubled "/")`],
    ['a partner path that is not an XML name', GOOD.replace('Licence: licenceNo', '"Lic ence": licenceNo'),
      `${FIELDS}["Lic ence"]: bad partner path: "Lic ence" is not an XML name`],
    ['an element named after Object.prototype', GOOD.replace('Licence: licenceNo', 'constructor: licenceNo'),
      `${FIELDS}.constructor: bad partner path: the name "constructor" is reserved (it collides with Object.prototype)`],
    ['an attribute in the middle of a path', GOOD.replace('Card/@number', '"@x/Card"'),
      `${FIELDS}.Holder.fields["@x/Card"]: bad partner path: "@x" may only stand alone or at the end`],
    ['a canonical path that is not one', GOOD.replace('Licence: licenceNo', 'Licence: licence..No'),
      `${FIELDS}.Licence.canonical: bad canonical path: "licence..No" is not a canonical path (keys of letters, digits and _, joined by ".")`],
    ['JSONata that does not compile', GOOD.replace('Licence: licenceNo', 'Licence: { canonical: licenceNo, toCanonical: "$uppercase(", toPartner: "$" }'),
      `${FIELDS}.Licence.toCanonical: JSONata does not compile at character 11: Expected ")" before end of expression`],
    ['a misspelt key', GOOD.replace('Time: { canonical: requestedAt,', 'Time: { canonical: requestedAt, optinal: true,'),
      `${FIELDS}.Time.optinal: unknown key (expected one of: canonical, type, code, time, date, jsonType, toCanonical, toPartner, optional)`],
    ['a time pattern with an unknown letter', GOOD.replace('yyyy-MM-dd HH:mm:ss', 'YYYY-MM-dd HH:mm:ss'),
      `${FIELDS}.Time.time: bad time pattern: "YYYY" is not a field (use yyyy MM dd HH mm ss; quote literal letters: 'T')`],
    ['a time pattern without seconds', GOOD.replace('yyyy-MM-dd HH:mm:ss', 'yyyy-MM-dd HH:mm'),
      `${FIELDS}.Time.time: bad time pattern: a time pattern needs yyyy MM dd HH mm ss; ss is missing`],
    ['a code table value YAML reads as a number', GOOD.replace('"001": XYDM', '"001": 10'),
      'codeTables.idType["001"]: must be a string (quote it: "10")'],
    ['a code table that does not map both ways', GOOD.replace('"001": XYDM', '"001": SFZ'),
      'codeTables.idType["001"]: the partner value "SFZ" is already the value of "111": a code table maps both ways, so each partner value may appear once'],
    ['a canonical field mapped twice', GOOD.replace('Licence: licenceNo', 'Licence: licenceNo\n        Licence2: verifyNo'),
      `${FIELDS}: canonical verifyNo is mapped twice (@no, Licence2)`],
    ['a value and an element nested under it', GOOD.replace('Licence: licenceNo', 'Licence: licenceNo\n        Licence/Kind: { const: x }'),
      `${FIELDS}: Licence and Licence/Kind collide: they write the same partner place, or one holds a value the other would nest into`],
    ['entries whose value is the text of an element that holds the key', GOOD.replace('Licence: licenceNo', 'Licence: licenceNo\n        Extra/Item: { entries: extra, key: Name, value: . }'),
      `${FIELDS}["Extra/Item"].value: must be another place than key, and neither may hold the other (an element read as text holds no elements)`],
    ['a constant YAML reads as a number in an XML format', GOOD.replace('Licence: licenceNo', 'Licence: licenceNo\n        "@version": { const: 1.0 }'),
      `${FIELDS}["@version"].const: must be a string in an XML format (quote it: "1.0")`],
    ['an XML message without its root', GOOD.replace('      root: Verify\n', ''),
      'messages["licence.verify"].request.root: is required'],
    ['an unknown message type', GOOD.replace('licence.verify:', 'licence.check:'),
      'messages["licence.check"]: is not an XR/1 message type (application.submit, application.status, licence.verify, evaluation.submit)'],
    ['an unsupported charset', GOOD.replace('charset: UTF-8', 'charset: Big5'),
      'charset: must be one of: UTF-8, GB18030, GBK'],
    ['attributes in a JSON format', GOOD.replace('application/xml', 'application/json').replace('      root: Verify\n', ''),
      `${FIELDS}["@no"]: bad partner path: attributes ("@…") exist only in XML formats`],
    ['a document name other than the format name', GOOD.replace('name: demo-xml', 'name: other'),
      'name: is "other", but the document is being stored as format "demo-xml"'],
  ];
  for (const [what, text, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.equal(refusal(text).message, `XR_BAD_REQUEST: ${message}`);
    });
  }

  it('refuses an unquoted YAML key that would not stay a string, with its line', () => {
    const error = refusal(GOOD.replace('"001": XYDM', '001: XYDM'));
    assert.equal(error.message, 'XR_BAD_REQUEST: line 6, column 25: the key 001 is not a string: quote it ("001")');
  });

  it('refuses text that is not YAML or JSON, with its line', () => {
    assert.match(refusal(`${GOOD}\n  - [unbalanced\n`).message, /^XR_BAD_REQUEST: line \d+, column \d+: not valid YAML or JSON: /);
  });

  it('refuses a document that is not a mapping', () => {
    assert.equal(refusal('- a\n- b\n').message, 'XR_BAD_REQUEST: (document): must be a mapping');
  });
});

describe('The format registry', () => {
  it('holds the five shipped formats by name', () => {
    const registry = FormatRegistry.withShippedFormats();
    assert.deepEqual(registry.names(), ['ah-xml', 'hz-json', 'js-xml', 'sh-json', 'zj-xml']);
    assert.deepEqual(registry.get('zj-xml') && { mediaType: registry.get('zj-xml')!.mediaType, charset: registry.get('zj-xml')!.charset }, { mediaType: 'application/xml', charset: 'GB18030' });
    assert.equal(registry.get('nowhere'), undefined);
  });

  it('compiles a document once: every get returns the same compiled format', () => {
    const registry = FormatRegistry.withShippedFormats();
    assert.equal(registry.get('sh-json'), registry.get('sh-json'));
  });

  it('replaces a format when the new document compiles', () => {
    const registry = new FormatRegistry(new Map([['demo-xml', GOOD]]));
    const before = registry.get('demo-xml');
    const replacement = GOOD.replace('Licence: licenceNo', 'LicenceNo: licenceNo');
    const after = registry.put('demo-xml', replacement);
    assert.notEqual(after, before);
    assert.equal(registry.get('demo-xml'), after);
    assert.equal(registry.source('demo-xml'), replacement);
  });

  it('leaves the old format in force when a put is refused', () => {
    const registry = new FormatRegistry(new Map([['demo-xml', GOOD]]));
    const before = registry.get('demo-xml');
    assert.throws(() => registry.put('demo-xml', GOOD.replace('code: idType', 'code: nowhere')), FormatDocumentError);
    assert.equal(registry.get('demo-xml'), before);
    assert.equal(registry.source('demo-xml'), GOOD);
    assert.deepEqual(registry.names(), ['demo-xml']);
  });

  it('checks a document without storing it', () => {
    const registry = new FormatRegistry();
    assert.equal(registry.check('demo-xml', GOOD).name, 'demo-xml');
    assert.deepEqual(registry.names(), []);
    assert.throws(() => registry.check('demo-xml', 'mediaType: text/csv'), /mediaType: must be one of: application\/json, application\/xml/);
  });

  it('refuses a format name that could not be a path segment', () => {
    assert.throws(() => new FormatRegistry().put('../etc', GOOD.replace('name: demo-xml\n', '')), /"\.\.\/etc" is not a format name/);
  });

  it('hands out copies of the shipped documents', () => {
    shippedFormats().delete('zj-xml');
    assert.ok(shippedFormats().has('zj-xml'));
  });
});
