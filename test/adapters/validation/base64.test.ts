import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { decodeStrictBase64 } from '../../../adapters/validation/base64.ts';

/** RFC 4648 §4 with zero pad bits, spelt out as a regular expression (fine for short strings). */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

describe('strict base64 decoding (RFC 4648 §4)', () => {
  it('decodes what Node encodes, for every length modulo 3', () => {
    for (const size of [0, 1, 2, 3, 4, 5, 1000, 1024 * 1024]) {
      const bytes = randomBytes(size);
      assert.deepEqual(decodeStrictBase64(bytes.toString('base64')), bytes, `${size} bytes`);
    }
  });

  it('refuses what Node forgives: missing padding, whitespace, base64url, non-zero pad bits, non-ASCII look-alikes', () => {
    for (const text of ['QUI', 'QUJ D', 'QUJD\n', 'Q-_A', 'QR==', 'QUI=QUI=', '====', 'A===', 'QUJń', 'QUĀń', 'QUJ一', '\uD800QUJ']) {
      assert.equal(decodeStrictBase64(text), undefined, JSON.stringify(text));
    }
  });

  it('agrees with the regular-expression definition on any short string of tricky characters', () => {
    const tricky = fc.string({ unit: fc.constantFrom(...'AQgwBDEFz09+/=-_ .\nńĀ一'), maxLength: 16 });
    fc.assert(
      fc.property(tricky, (text) => {
        const decoded = decodeStrictBase64(text);
        return STRICT_BASE64.test(text) ? decoded?.equals(Buffer.from(text, 'base64')) === true : decoded === undefined;
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the regular-expression definition on encodings of random bytes with one character changed', () => {
    const changed = fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom(...'AQgw+/=-_ \nńé'))
      .map(([bytes, position, replacement]) => {
        const text = Buffer.from(bytes).toString('base64');
        const at = position % text.length;
        return text.slice(0, at) + replacement + text.slice(at + 1);
      });
    fc.assert(
      fc.property(changed, (text) => (decodeStrictBase64(text) !== undefined) === STRICT_BASE64.test(text)),
      { numRuns: 5000 },
    );
  });
});
