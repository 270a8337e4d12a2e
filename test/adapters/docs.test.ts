import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { FormatRegistry } from '../../adapters/index.ts';
import { REPO_ROOT } from './support/fixtures.ts';

/** The code block after `<!-- example: name -->` in docs/mapping.md. */
function example(name: string): string {
  const text = readFileSync(path.join(REPO_ROOT, 'docs/mapping.md'), 'utf8');
  const match = new RegExp(`<!-- example: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(match, `docs/mapping.md has no example "${name}"`);
  return match[1]!;
}

describe('The worked example of docs/mapping.md (常州, cz-xml)', () => {
  const registry = new FormatRegistry();
  const document = example('cz-xml.yaml');
  const format = registry.put('cz-xml', document);
  const partner = iconv.encode(example('cz-xml application.status request partner'), 'gbk');
  const canonical = JSON.parse(example('cz-xml application.status request canonical'));

  it('compiles, as a GBK XML format, and passes what a PUT holds a new document to', () => {
    registry.check('cz-xml', document);
    assert.equal(format.charset, 'GBK');
    assert.equal(format.mediaType, 'application/xml');
  });

  it('translates the city\'s sample into the canonical message shown, and back byte for byte', async () => {
    assert.deepEqual(await format.toCanonical('application.status', 'request', partner), canonical);
    assert.ok((await format.fromCanonical('application.status', 'request', canonical)).equals(partner));
  });

  it('writes the acknowledgement shown in step 4', async () => {
    const ack = await format.fromCanonical('application.status', 'response', { applyNo: '3204002026112700005', message: '已收到' });
    assert.equal(iconv.decode(ack, 'gbk'), '<?xml version="1.0" encoding="GBK"?>\n<package><head><msgtype>ACK</msgtype></head>'
      + '<data><result>0</result><ywbh>3204002026112700005</ywbh><msg>已收到</msg></data></package>\n');
  });

  it('refuses the misspelt code table of step 3 with the message shown, keeping the format in force', () => {
    assert.throws(() => registry.put('cz-xml', document.replace('code: status', 'code: statuss')), {
      message: 'XR_BAD_REQUEST: messages["application.status"].request.fields.data.fields["zt/@dm"].code: unknown code table "statuss" (defined: status)',
    });
    assert.equal(registry.get('cz-xml'), format);
  });
});
