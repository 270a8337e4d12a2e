import assert from 'node:assert/strict';
import { FormatRegistry } from '../../adapters/index.ts';
import { fixturePairs } from './support/fixtures.ts';
import { xmlDeclaration, xmlTree } from './support/xml-tree.ts';

const formats = FormatRegistry.withShippedFormats();
const pairs = fixturePairs();

function formatFor(family: string) {
  const format = formats.get(family);
  assert.ok(format, `no shipped format ${family}`);
  return format;
}

async function assertSamePartnerMessage(family: string, actual: Buffer, expected: Buffer): Promise<void> {
  if (formatFor(family).mediaType === 'application/json') {
    assert.deepEqual(JSON.parse(actual.toString('utf8')), JSON.parse(expected.toString('utf8')));
  } else {
    assert.deepEqual(await xmlTree(actual), await xmlTree(expected));
  }
}

describe('The shared fixtures', () => {
  it('cover the four partner families, eight messages each', () => {
    assert.deepEqual([...new Set(pairs.map((pair) => pair.family))], ['ah-xml', 'js-xml', 'sh-json', 'zj-xml']);
    assert.equal(pairs.length, 16);
  });

  for (const pair of pairs) {
    const { family, messageType, direction } = pair;
    describe(`${pair.partnerFile}`, () => {
      it('maps partner → canonical to the canonical file', async () => {
        assert.deepEqual(await formatFor(family).toCanonical(messageType, direction, pair.partner), pair.canonical);
      });

      it('maps canonical → partner to the partner file', async () => {
        await assertSamePartnerMessage(family, await formatFor(family).fromCanonical(messageType, direction, pair.canonical), pair.partner);
      });

      it('round-trips both ways', async () => {
        const format = formatFor(family);
        const canonical = await format.toCanonical(messageType, direction, pair.partner);
        await assertSamePartnerMessage(family, await format.fromCanonical(messageType, direction, canonical), pair.partner);
        const partner = await format.fromCanonical(messageType, direction, pair.canonical);
        assert.deepEqual(await format.toCanonical(messageType, direction, partner), pair.canonical);
      });

      if (pair.partnerFile.endsWith('.xml')) {
        it('writes XML byte for byte as the sample, declaring the family charset', async () => {
          const format = formatFor(family);
          const written = await format.fromCanonical(messageType, direction, pair.canonical);
          assert.equal(xmlDeclaration(written), `<?xml version="1.0" encoding="${format.charset}"?>`);
          assert.ok(written.equals(pair.partner));
        });
      }
    });
  }

  describe('in hz-json, the canonical form itself', () => {
    for (const pair of pairs.filter((candidate) => candidate.family === 'sh-json')) {
      it(`passes ${pair.messageType} ${pair.direction} through unchanged both ways`, async () => {
        const format = formatFor('hz-json');
        const body = Buffer.from(JSON.stringify(pair.canonical, null, 2));
        assert.deepEqual(await format.toCanonical(pair.messageType, pair.direction, body), pair.canonical);
        const written = await format.fromCanonical(pair.messageType, pair.direction, pair.canonical);
        assert.deepEqual(JSON.parse(written.toString('utf8')), pair.canonical);
      });
    }
  });
});
