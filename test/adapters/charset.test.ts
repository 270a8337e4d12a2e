/**
 * adapters/engine/charset.ts reads UTF-8 and GB18030 through Node's TextDecoder where that gives exactly
 * iconv-lite's text. These tests hold it to the decoding it replaced (iconv-lite, then the U+FFFD round-trip
 * check, then the BOM dropped), code by code over the whole of GB18030, and on bytes that are not valid —
 * except that bytes the standard decoder (TextDecoder, fatal) refuses are refused, where iconv-lite read
 * some of them as text no encoder produces (GB18030's unassigned codes, lone surrogates).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { decodeBody, encodeText } from '../../adapters/engine/charset.ts';
import { isXrError } from '../../gateway/protocol/errors.ts';

/** GB18030-2022's 18 standard code points and the private-use ones GB18030-2005 (iconv-lite) had for the same two-byte codes. */
const EDITION_2022: ReadonlyArray<[string, string, string]> = [
  ['a6d9', '\uFE10', '\uE78D'], ['a6da', '\uFE12', '\uE78E'], ['a6db', '\uFE11', '\uE78F'], ['a6dc', '\uFE13', '\uE790'],
  ['a6dd', '\uFE14', '\uE791'], ['a6de', '\uFE15', '\uE792'], ['a6df', '\uFE16', '\uE793'], ['a6ec', '\uFE17', '\uE794'],
  ['a6ed', '\uFE18', '\uE795'], ['a6f3', '\uFE19', '\uE796'], ['fe59', '\u9FB4', '\uE81E'], ['fe61', '\u9FB5', '\uE826'],
  ['fe66', '\u9FB6', '\uE82B'], ['fe67', '\u9FB7', '\uE82C'], ['fe6d', '\u9FB8', '\uE832'], ['fe7e', '\u9FB9', '\uE843'],
  ['fe90', '\u9FBA', '\uE854'], ['fea0', '\u9FBB', '\uE864'],
];
const TO_2022 = new Map(EDITION_2022.map(([, standard, privateUse]) => [privateUse, standard]));
const TO_2005 = new Map(EDITION_2022.map(([, standard, privateUse]) => [standard, privateUse]));
const swap = (text: string, table: ReadonlyMap<string, string>) => [...text].map((character) => table.get(character) ?? character).join('');

const STANDARD_DECODERS = new Map([['gb18030', new TextDecoder('gb18030', { fatal: true })], ['utf8', new TextDecoder('utf-8', { fatal: true })]]);

/**
 * The decoding as it was before TextDecoder, less what the standard decoder refuses, and GB18030's 18
 * moved codes read as the 2022 edition has them: the reference every input must match.
 */
function iconvDecodeBody(body: Buffer, charset: string): string {
  const key = charset.toLowerCase().replace(/[^a-z0-9]/g, '');
  STANDARD_DECODERS.get(key)?.decode(body);
  const read = iconv.decode(body, charset, { stripBOM: false });
  const text = key === 'gb18030' ? swap(read, TO_2022) : read;
  if (text.includes('\uFFFD') && !iconv.encode(key === 'gb18030' ? swap(text, TO_2005) : text, charset).equals(body)) throw new Error('refused');
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

type Outcome = { text: string } | { refused: true };

function outcome(decoder: (body: Buffer, charset: string) => string, body: Buffer, charset: string): Outcome {
  try {
    return { text: decoder(body, charset) };
  } catch (error) {
    if (decoder === decodeBody) assert.ok(isXrError(error) && error.code === 'XR_MALFORMED', String(error));
    return { refused: true };
  }
}

function assertDecodesAsBefore(body: Buffer, charset: string): void {
  assert.deepEqual(outcome(decodeBody, body, charset), outcome(iconvDecodeBody, body, charset), `bytes ${body.toString('hex')}`);
}

/** Text made of these characters and any others, lone surrogates included. */
const textWith = (...characters: string[]): fc.Arbitrary<string> =>
  fc.array(fc.oneof(fc.constantFrom(...characters), fc.string({ unit: 'binary', maxLength: 1 })), { maxLength: 24 }).map((parts) => parts.join(''));

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const SECOND_BYTES = [...range(0x40, 0x7e), ...range(0x80, 0xfe)];

/** Every code of GB18030 in code order, one after the other: one byte, two bytes, four bytes (BMP, then U+10000–U+10FFFF). */
function allGb18030Codes(): { bytes: Buffer; starts: number[]; firstAstral: number } {
  const bytes = Buffer.alloc(4_400_000);
  const starts: number[] = [];
  let length = 0;
  let firstAstral = 0;
  const add = (...code: number[]) => {
    starts.push(length);
    for (const byte of code) bytes[length++] = byte;
  };
  for (const byte of range(0x00, 0x80)) add(byte);
  for (const lead of range(0x81, 0xfe)) for (const trail of SECOND_BYTES) add(lead, trail);
  // Four-byte codes count up in base 10/126/10: 81308130 is the first, 8431A439 (U+FFFF) the last of the BMP,
  // 90308130 (U+10000) to E3329A35 (U+10FFFF) the rest of Unicode.
  const linear = (b1: number, b2: number, b3: number, b4: number) => (((b1 - 0x81) * 10 + (b2 - 0x30)) * 126 + (b3 - 0x81)) * 10 + (b4 - 0x30);
  for (const [first, last] of [[linear(0x81, 0x30, 0x81, 0x30), linear(0x84, 0x31, 0xa4, 0x39)], [linear(0x90, 0x30, 0x81, 0x30), linear(0xe3, 0x32, 0x9a, 0x35)]] as const) {
    if (first > 0) firstAstral = starts.length;
    for (let value = first; value <= last; value += 1) {
      add(0x81 + Math.floor(value / 12600), 0x30 + (Math.floor(value / 1260) % 10), 0x81 + (Math.floor(value / 10) % 126), 0x30 + (value % 10));
    }
  }
  starts.push(length);
  return { bytes: bytes.subarray(0, length), starts, firstAstral };
}

const GB18030_CODES = allGb18030Codes();
const codeAt = (index: number): Buffer => GB18030_CODES.bytes.subarray(GB18030_CODES.starts[index], GB18030_CODES.starts[index + 1]);

describe('Decoding GB18030 bodies', function () {
  this.timeout(60_000);

  it('reads every code of GB18030 exactly as iconv-lite did: those of the BMP one by one, the others in runs of 500', () => {
    const { bytes, starts, firstAstral } = GB18030_CODES;
    assert.equal(starts.length - 1, 1_112_065);
    assert.equal(firstAstral, 129 + 126 * 190 + 39_420);
    for (let index = 0; index < firstAstral; index += 1) {
      const code = codeAt(index);
      assert.equal(decodeBody(code, 'GB18030'), iconvDecodeBody(code, 'GB18030'), `the code ${code.toString('hex')}`);
    }
    for (let first = firstAstral; first < starts.length - 1; first += 500) {
      const run = bytes.subarray(starts[first], starts[Math.min(first + 500, starts.length - 1)]);
      assert.equal(decodeBody(run, 'GB18030'), iconvDecodeBody(run, 'GB18030'), `the run starting ${codeAt(first).toString('hex')}`);
    }
  });

  it('reads and writes the 18 codes GB18030-2022 moved as that edition has them (U+FE10…, U+9FB4…), not as private use', () => {
    for (const [code, standard, privateUse] of EDITION_2022) {
      assert.equal(decodeBody(Buffer.from(`41${code}42`, 'hex'), 'GB18030'), `A${standard}B`, code);
      assert.equal(encodeText(standard, 'GB18030').toString('hex'), code, `U+${standard.codePointAt(0)!.toString(16)} is written ${code}`);
      // GB18030-2005 wrote these characters as four-byte codes: a partner still on it is read right too.
      assert.equal(decodeBody(iconv.encode(standard, 'gb18030'), 'GB18030'), standard);
      assert.throws(() => encodeText(`A${privateUse}`, 'GB18030'), (error: unknown) => isXrError(error) && error.code === 'XR_TRANSLATION' && /cannot be represented/.test(error.detail));
    }
  });

  it('reads 䶮, astral characters, a real U+FFFD and byte-order marks as before', () => {
    for (const text of ['䶮', '𠀀', '😀', '\u{10FFFF}', '\uFFFD', 'a\uFFFDb', '\uFEFF<a/>', '\uFEFF\uFEFF<a/>', '€', '\u0080']) {
      assertDecodesAsBefore(iconv.encode(text, 'gb18030'), 'GB18030');
    }
    assertDecodesAsBefore(Buffer.from([0x80]), 'GB18030');
  });

  it('refuses, or reads, every invalid two-byte code as before', () => {
    for (const lead of range(0x81, 0xfe)) {
      for (const trail of [...range(0x00, 0x2f), 0x7f, 0xff]) assertDecodesAsBefore(Buffer.from([0x41, lead, trail, 0x42]), 'GB18030');
    }
    for (const byte of [0x80, 0xff]) assertDecodesAsBefore(Buffer.from([0x41, byte, 0x42]), 'GB18030');
  });

  it('refuses the four-byte codes GB18030 leaves unassigned, which iconv-lite read as text', () => {
    for (const hex of ['8431a530', '8f39fe39', 'e3329a36', 'fe39fe39']) {
      assert.throws(() => decodeBody(Buffer.from(`41${hex}42`, 'hex'), 'GB18030'), (error: unknown) => isXrError(error) && error.code === 'XR_MALFORMED', hex);
      assert.notEqual(iconv.decode(Buffer.from(hex, 'hex'), 'gb18030'), '\uFFFD', `iconv-lite reads ${hex} as text`);
    }
    assert.equal(decodeBody(Buffer.from('418431a43942', 'hex'), 'GB18030'), 'A\uFFFFB');
    assert.equal(decodeBody(Buffer.from('419030813042', 'hex'), 'GB18030'), 'A\u{10000}B');
  });

  it('refuses, or reads, four-byte codes outside GB18030 and cut-off codes as before', () => {
    const thirds = (first: number) => (first === 0x84 || first === 0xe3 ? [...range(0x81, 0xfe), 0x30, 0xff] : [0x81, 0xa5, 0xfe, 0x30, 0xff]);
    for (const first of [0x84, 0xe3, 0x85, 0x8f, 0x90, 0xe4, 0xfe]) {
      for (const second of range(0x30, 0x39)) for (const third of thirds(first)) {
        for (const fourth of [...range(0x30, 0x39), 0x29, 0x3a]) assertDecodesAsBefore(Buffer.from([first, second, third, fourth]), 'GB18030');
      }
    }
    for (const cut of ['81', '8130', '813081', 'e3329a', '41e3']) assertDecodesAsBefore(Buffer.from(cut, 'hex'), 'GB18030');
  });

  it('refuses, or reads, arbitrary bytes as before', () => {
    const piece = fc.oneof(
      fc.nat(GB18030_CODES.starts.length - 2).map(codeAt),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(...['a6d9', 'fea0', '84318236', '8431a530', 'e3329a36', 'ff', '80', '84319533'].map((hex) => Buffer.from(hex, 'hex'))),
    );
    fc.assert(fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => assertDecodesAsBefore(Buffer.concat(pieces), 'GB18030')), { numRuns: 1000 });
  });
});

describe('Decoding UTF-8 bodies', () => {
  it('reads any text, astral characters, U+FFFD and byte-order marks included, as before', () => {
    fc.assert(fc.property(textWith('\uFEFF', '\uFFFD', '\uD800', '\uDFFF', '䶮', '𠀀', '\u0000', 'a', 'é', '中'), (value) => {
      assertDecodesAsBefore(Buffer.from(value, 'utf8'), 'UTF-8');
      assertDecodesAsBefore(Buffer.from(value, 'utf8'), 'utf8');
    }), { numRuns: 2000 });
  });

  it('refuses, or reads, arbitrary bytes as before: bad sequences, surrogates, overlong forms, cut-off characters', () => {
    for (const hex of ['ff', 'c0af', 'eda080', 'edbfbf', 'f4908080', 'e4b8', 'e4', 'efbfbd', 'efbbbf', 'efbbbfefbbbf', 'f09f9880']) {
      assertDecodesAsBefore(Buffer.from(`41${hex}42`, 'hex'), 'UTF-8');
      assertDecodesAsBefore(Buffer.from(hex, 'hex'), 'UTF-8');
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => assertDecodesAsBefore(Buffer.from(bytes), 'UTF-8')), { numRuns: 2000 });
  });
});

describe('Encoding canonical text', () => {
  it('refuses exactly the text it refused before, in UTF-8 and GB18030 (2022: the 18 private-use code points it replaced have no code)', () => {
    const toIconv = (text: string, charset: 'UTF-8' | 'GB18030') => (charset === 'GB18030' ? swap(text, TO_2005) : text);
    const before = (text: string, charset: 'UTF-8' | 'GB18030'): boolean => {
      if (charset === 'GB18030' && [...text].some((character) => TO_2022.has(character))) return false;
      return iconv.decode(iconv.encode(toIconv(text, charset), charset), charset, { stripBOM: false }) === toIconv(text, charset);
    };
    fc.assert(fc.property(textWith('\uD800', '\uDC00', '\uFFFD', '\uE78D', '\uFE10', '\u9FB4', '䶮', '😀'), (value) => {
      for (const charset of ['UTF-8', 'GB18030'] as const) {
        let written: Buffer | undefined;
        try {
          written = encodeText(value, charset);
        } catch (error) {
          assert.ok(isXrError(error) && error.code === 'XR_TRANSLATION');
        }
        assert.equal(written !== undefined, before(value, charset), `${charset}: ${JSON.stringify(value)}`);
        if (written !== undefined) assert.ok(written.equals(iconv.encode(toIconv(value, charset), charset)));
      }
    }), { numRuns: 2000 });
  });
});
