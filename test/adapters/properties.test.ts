import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { FormatRegistry } from '../../adapters/index.ts';
import { isXrError } from '../../gateway/protocol/errors.ts';
import { MESSAGE_TYPES } from '../../gateway/protocol/messages.ts';
import { canonicalMessages } from './support/arbitraries.ts';
import { fixturePairs } from './support/fixtures.ts';

const formats = FormatRegistry.withShippedFormats();
const RUNS = { numRuns: 100 };

describe('Random valid canonical messages', () => {
  for (const family of formats.names()) {
    describe(`through ${family}`, () => {
      for (const messageType of MESSAGE_TYPES) {
        for (const direction of ['request', 'response'] as const) {
          it(`round-trip ${messageType} ${direction}, byte-safe in the family's charset`, async () => {
            const format = formats.get(family)!;
            await fc.assert(fc.asyncProperty(canonicalMessages[messageType][direction], async (document) => {
              const partner = await format.fromCanonical(messageType, direction, document);
              assert.ok(iconv.encode(iconv.decode(partner, format.charset), format.charset).equals(partner), 'the bytes are clean in the charset');
              const canonical = await format.toCanonical(messageType, direction, partner);
              assert.deepEqual(canonical, document);
              assert.ok((await format.fromCanonical(messageType, direction, canonical)).equals(partner), 'writing again gives the same bytes');
            }), RUNS);
          });
        }
      }
    });
  }
});

describe('Arbitrary partner bodies', () => {
  const samples = fixturePairs();

  function expectReadOrRefused(family: string) {
    return async (pair: (typeof samples)[number], body: Buffer): Promise<void> => {
      try {
        await formats.get(family)!.toCanonical(pair.messageType, pair.direction, body);
      } catch (error) {
        assert.ok(isXrError(error), `not an XrError: ${String(error)}`);
        assert.ok(error.code === 'XR_MALFORMED' || error.code === 'XR_TRANSLATION', error.code);
      }
    };
  }

  for (const family of ['sh-json', 'zj-xml', 'js-xml', 'ah-xml']) {
    const own = samples.filter((pair) => pair.family === family);
    it(`never crash ${family}: a sample with bytes cut, dropped or changed is read or refused with XR_MALFORMED or XR_TRANSLATION`, async () => {
      const mutated = fc.tuple(fc.constantFrom(...own), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('cut', 'drop', 'change'))
        .map(([pair, at, length, byte, how]): [typeof pair, Buffer] => {
          const start = at % (pair.partner.length + 1);
          const bytes = Buffer.from(pair.partner);
          if (how === 'cut') return [pair, bytes.subarray(0, start)];
          if (how === 'drop') return [pair, Buffer.concat([bytes.subarray(0, start), bytes.subarray(start + (length % 16))])];
          if (start < bytes.length) bytes[start] = byte;
          return [pair, bytes];
        });
      await fc.assert(fc.asyncProperty(mutated, async ([pair, body]) => expectReadOrRefused(family)(pair, body)), { numRuns: 200 });
    });
  }
});
