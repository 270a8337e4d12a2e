import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { FormatRegistry, shippedFormats } from '../../adapters/index.ts';
import { RegionTable } from '../../adapters/regions/index.ts';
import { InboundTranslator } from '../../gateway/partner/translation-thread.ts';
import { isXrError, type XrError } from '../../gateway/protocol/errors.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const fixture = (family: string, file: string) => readFileSync(path.join(FIXTURES, family, file));

describe('the translation thread: large partner bodies translated off the request thread, with the same outcome', function () {
  const regions = RegionTable.default();
  const formats = FormatRegistry.withShippedFormats();
  const documents = shippedFormats();
  let inThread: InboundTranslator;
  let inPlace: InboundTranslator;

  before(function () {
    inThread = new InboundTranslator({ regions, thresholdBytes: 0 });
    inPlace = new InboundTranslator({ regions, thresholdBytes: Number.POSITIVE_INFINITY });
  });

  after(async function () {
    await inThread.close();
    await inPlace.close();
  });

  async function refusalOf(run: Promise<unknown>): Promise<Pick<XrError, 'code' | 'detail' | 'status'>> {
    const error = await run.then(() => undefined, (e: unknown) => e);
    assert.ok(isXrError(error), `expected a refusal, got ${String(error)}`);
    return { code: error.code, detail: error.detail, status: error.status };
  }

  for (const family of ['sh-json', 'zj-xml', 'js-xml', 'ah-xml']) {
    it(`${family}: gives the canonical fixture, as in place`, async function () {
      const body = fixture(family, `application.submit.request.${family.endsWith('xml') ? 'xml' : 'json'}`);
      const format = formats.get(family)!;
      const threaded = await inThread.toCanonical(format, documents.get(family), 'application.submit', body);
      assert.equal(inThread.threadStarted, true);
      assert.deepEqual(threaded, await inPlace.toCanonical(format, documents.get(family), 'application.submit', body));
      assert.deepEqual(threaded, JSON.parse(fixture(family, 'application.submit.request.canonical.json').toString('utf8')));
      assert.equal(inPlace.threadStarted, false, 'small bodies never start the thread');
    });
  }

  it('refuses what it cannot translate or validate with the same code, detail and status as in place', async function () {
    const format = formats.get('sh-json')!;
    const good = JSON.parse(fixture('sh-json', 'application.submit.request.json').toString('utf8')) as Record<string, unknown>;
    const bodies = [
      Buffer.from('{"not json'),
      Buffer.from('[]'),
      // The identity number's check digit off (…0033 → …0034): GB 11643 refuses it.
      Buffer.from(JSON.stringify({ ...good, zjhm: '310117198506150034' })),
      // The material's digest not matching its content.
      Buffer.from(JSON.stringify({ ...good, clxx: [{ ...(good.clxx as object[])[0], zy: '0'.repeat(64) }] })),
    ];
    for (const body of bodies) {
      const threaded = await refusalOf(inThread.toCanonical(format, documents.get('sh-json'), 'application.submit', body));
      const local = await refusalOf(inPlace.toCanonical(format, documents.get('sh-json'), 'application.submit', body));
      assert.deepEqual(threaded, local);
      assert.match(threaded.code, /^XR_(TRANSLATION|VALIDATION|MALFORMED|BAD_REQUEST)/);
    }
  });

  it('reads an XML body in the charset its Content-Type named, as in place, and refuses a contradicting label alike', async function () {
    const format = formats.get('zj-xml')!;
    const gb18030 = fixture('zj-xml', 'application.submit.request.xml');
    const utf8 = Buffer.from(iconv.decode(gb18030, 'gb18030').replace(/^<\?xml[^>]*\?>\s*/, ''), 'utf8');
    const expected = JSON.parse(fixture('zj-xml', 'application.submit.request.canonical.json').toString('utf8'));
    assert.deepEqual(await inThread.toCanonical(format, documents.get('zj-xml'), 'application.submit', utf8, { charset: 'utf-8' }), expected);
    const threaded = await refusalOf(inThread.toCanonical(format, documents.get('zj-xml'), 'application.submit', gb18030, { charset: 'utf-8' }));
    assert.deepEqual(threaded, await refusalOf(inPlace.toCanonical(format, documents.get('zj-xml'), 'application.submit', gb18030, { charset: 'utf-8' })));
    assert.equal(threaded.code, 'XR_MALFORMED');
  });

  it('follows a format changed under the same name (as through the admin API): it recompiles from the new text', async function () {
    const live = new FormatRegistry();
    const renamed = (family: string) => documents.get(family)!.replace(`name: ${family}`, 'name: city');
    const first = live.put('city', renamed('sh-json'));
    const jsonBody = fixture('sh-json', 'application.submit.request.json');
    assert.deepEqual(await inThread.toCanonical(first, live.source('city'), 'application.submit', jsonBody),
      JSON.parse(fixture('sh-json', 'application.submit.request.canonical.json').toString('utf8')));
    const second = live.put('city', renamed('js-xml'));
    const xmlBody = fixture('js-xml', 'application.submit.request.xml');
    assert.deepEqual(await inThread.toCanonical(second, live.source('city'), 'application.submit', xmlBody),
      JSON.parse(fixture('js-xml', 'application.submit.request.canonical.json').toString('utf8')));
  });

  it('fails what it holds when it is closed, and starts again for the next large body', async function () {
    const translator = new InboundTranslator({ regions, thresholdBytes: 0 });
    const format = formats.get('sh-json')!;
    const body = fixture('sh-json', 'application.submit.request.json');
    await translator.toCanonical(format, documents.get('sh-json'), 'application.submit', body);
    const pending = translator.toCanonical(format, documents.get('sh-json'), 'application.submit', body);
    const refused = assert.rejects(pending, /stopping/);
    await translator.close();
    await refused;
    assert.equal(translator.threadStarted, false);
    assert.ok(await translator.toCanonical(format, documents.get('sh-json'), 'application.submit', body));
    await translator.close();
  });
});
