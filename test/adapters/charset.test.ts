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

const STANDARD_DECODERS = new Map([['gb18030', new TextDecoder('gb18030', { fatal: true })], ['utf8', new TextDecoder('utf-8', { fatal: true })]]);

/** The decoding as it was before TextDecoder, less what the standard decoder refuses: the reference every input must match. */
function iconvDecodeBody(body: Buffer, charset: string): string {
  STANDARD_DECODERS.get(charset.toLowerCase().replace(/[^a-z0-9]/g, ''))?.decode(body);
  const text = iconv.decode(body, charset, { stripBOM: false });
  if (text.includes('\uFFFD') && !iconv.encode(text, charset).equals(body)) throw new Error('refused');
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

  it('reads the 18 codes GB18030-2022 moved, and their 2022 code points, as iconv-lite (GB18030-2005) does', () => {
    const moved = ['a6d9', 'a6da', 'a6db', 'a6dc', 'a6dd', 'a6de', 'a6df', 'a6ec', 'a6ed', 'a6f3', 'fe59', 'fe61', 'fe66', 'fe67', 'fe6d', 'fe7e', 'fe90', 'fea0'];
    for (const code of moved) {
      const body = Buffer.from(`41${code}42`, 'hex');
      assertDecodesAsBefore(body, 'GB18030');
      assert.match(decodeBody(body, 'gb18030'), /^A[\uE000-\uF8FF]B$/u, `${code} is read as a private-use code point`);
    }
    for (const text of ['\uFE10', '\uFE19', '\u9FB4', '\u9FBB', '\uE78D', '\uE81E']) {
      assert.equal(decodeBody(iconv.encode(text, 'gb18030'), 'GB18030'), text);
      assert.equal(encodeText(text, 'GB18030').equals(iconv.encode(text, 'gb18030')), true);
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
  it('refuses exactly the text it refused before, in UTF-8 and GB18030', () => {
    const before = (text: string, charset: 'UTF-8' | 'GB18030'): boolean => iconv.decode(iconv.encode(text, charset), charset, { stripBOM: false }) === text;
    fc.assert(fc.property(textWith('\uD800', '\uDC00', '\uFFFD', '\uE78D', '\uFE10', '\u9FB4', '䶮', '😀'), (value) => {
      for (const charset of ['UTF-8', 'GB18030'] as const) {
        let written: Buffer | undefined;
        try {
          written = encodeText(value, charset);
        } catch (error) {
          assert.ok(isXrError(error) && error.code === 'XR_TRANSLATION');
        }
        assert.equal(written !== undefined, before(value, charset), `${charset}: ${JSON.stringify(value)}`);
        if (written !== undefined) assert.ok(written.equals(iconv.encode(value, charset)));
      }
    }), { numRuns: 2000 });
  });
});
