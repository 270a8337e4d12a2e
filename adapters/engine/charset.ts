/**
 * Bytes ⇄ text in a family's declared charset (iconv-lite). iconv-lite never fails: it replaces what it
 * cannot decode with U+FFFD and what it cannot encode with '?'. Both are silent data loss, so every
 * conversion here is checked by a round trip and a loss becomes an error.
 *
 * Decoding UTF-8 and GB18030 goes first through Node's own TextDecoder (ICU, fatal), several times faster
 * and stricter: bytes it refuses are not valid in the charset and are refused, where iconv-lite would read
 * some of them (GB18030's unassigned codes). Text it could read differently from iconv-lite (the 18 codes
 * GB18030-2022 moved) is decoded by iconv-lite, so that reading and writing agree.
 */
import iconv from 'iconv-lite';
import { malformed, untranslatable } from './errors.ts';

export const CHARSETS = ['UTF-8', 'GB18030', 'GBK'] as const;
export type Charset = (typeof CHARSETS)[number];

function charsetKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The supported charset a document names (case and punctuation ignored: `utf8`, `gb18030`). */
export function charsetNamed(name: string): Charset | undefined {
  return CHARSETS.find((charset) => charsetKey(charset) === charsetKey(name));
}

/** The encoding named by an XML declaration at the start of the body (XML 1.0 §4.3.3), if any. */
export function declaredXmlEncoding(body: Buffer): string | undefined {
  const head = body.subarray(0, 256).toString('latin1').replace(/^\xEF\xBB\xBF/, '');
  const declaration = /^<\?xml\s+version\s*=\s*["'][^"']*["']\s+encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']/.exec(head);
  return declaration?.[1];
}

/**
 * The charsets a partner's body may be in (PROTOCOL §3: UTF-8, or GB18030/GBK for XML), by charsetKey;
 * GB2312 and CP936 are read as GBK, which contains them. Any other charset iconv-lite knows (ISO-8859-1,
 * Big5, …) would read GB18030 bytes as valid text of another script: it is refused, never guessed at.
 */
const READABLE: ReadonlyMap<string, Charset> = new Map([
  ['utf8', 'UTF-8'], ['gb18030', 'GB18030'], ['gbk', 'GBK'], ['gb2312', 'GBK'], ['cp936', 'GBK'],
]);

/** The charset a Content-Type's charset parameter or an XML declaration names, if the gateway reads it. */
export function readableCharset(name: string): Charset | undefined {
  return READABLE.get(charsetKey(name));
}

/**
 * The charset to decode an XML body with. The charset of its Content-Type (`labelled`) comes first (RFC
 * 7303 §3), then the body's own XML declaration, then the family's. When the label and the declaration
 * both name a charset they must agree (GBK and GB18030 do: GB18030 contains GBK, and is read): bytes
 * described two ways are refused rather than read one way at a guess, since a wrong guess gives text that
 * is valid and wrong.
 */
export function xmlBodyCharset(body: Buffer, familyCharset: Charset, labelled?: string): Charset {
  const declaredName = declaredXmlEncoding(body);
  const declared = declaredName === undefined ? undefined : readableCharset(declaredName);
  if (declaredName !== undefined && declared === undefined) throw malformed(`the XML declaration names encoding ${declaredName}, which is not supported (UTF-8, GB18030 or GBK)`);
  if (labelled === undefined) return declared ?? familyCharset;
  const label = readableCharset(labelled);
  if (label === undefined) throw malformed(`the Content-Type names charset ${labelled}, which is not supported (UTF-8, GB18030 or GBK)`);
  if (declared === undefined || declared === label) return label;
  if (declared !== 'UTF-8' && label !== 'UTF-8') return 'GB18030';
  throw malformed(`the Content-Type says charset=${labelled} but the XML declaration says encoding="${declaredName}"`);
}

/**
 * GB18030-2022 moved 18 two-byte codes from private-use code points to standard ones: A6D9–A6DF, A6EC, A6ED
 * and A6F3 (vertical punctuation, U+FE10–U+FE19) and FE59, FE61, FE66, FE67, FE6D, FE7E, FE90, FEA0 (CJK
 * U+9FB4–U+9FBB). Node's ICU decodes them the 2022 way, iconv-lite the 2005 way (U+E78D…, U+E81E…); every
 * other code of GB18030 the two read alike (test/adapters/charset.test.ts checks them all). A text holding
 * one of these code points is therefore read again by iconv-lite.
 */
const GB18030_2022_READING = /[\uFE10-\uFE19\u9FB4-\u9FBB]/;

interface NativeDecoder {
  readonly decoder: TextDecoder;
  /** Matches text that iconv-lite might have read differently from the same bytes. */
  readonly mayDiffer?: RegExp;
}

function nativeDecoder(label: string, mayDiffer?: RegExp): NativeDecoder | undefined {
  try {
    // fatal: invalid bytes throw instead of becoming U+FFFD; ignoreBOM: a BOM stays in the text, as with iconv-lite.
    return { decoder: new TextDecoder(label, { fatal: true, ignoreBOM: true }), mayDiffer };
  } catch {
    return undefined; // a Node built with small ICU has no GB18030: iconv-lite does it all
  }
}

/** By charsetKey. UTF-8 needs no check: valid UTF-8 has one reading, and TextDecoder refuses everything else. */
const NATIVE_DECODERS: ReadonlyMap<string, NativeDecoder | undefined> = new Map([
  ['utf8', nativeDecoder('utf-8')],
  ['gb18030', nativeDecoder('gb18030', GB18030_2022_READING)],
]);

/**
 * The text iconv-lite would decode from `bytes`, through TextDecoder when that gives exactly the same; or
 * undefined when the bytes are not valid in the charset. Where TextDecoder (fatal) refuses the bytes they
 * are not valid: iconv-lite would read some of them anyway, e.g. GB18030's unassigned four-byte codes
 * (84 31 A5 30 as U+10000), which no encoder produces.
 */
function decode(bytes: Buffer, charset: string): string | undefined {
  const native = NATIVE_DECODERS.get(charsetKey(charset));
  if (native !== undefined) {
    let text: string;
    try {
      text = native.decoder.decode(bytes);
    } catch {
      return undefined;
    }
    if (native.mayDiffer?.test(text) !== true) return text;
  }
  return iconv.decode(bytes, charset, { stripBOM: false });
}

/** Decodes the body; bytes that are not valid in `charset` are XR_MALFORMED. A leading BOM is dropped. */
export function decodeBody(body: Buffer, charset: string): string {
  const text = decode(body, charset);
  // A U+FFFD in the text is either a real U+FFFD (it encodes back to the same bytes) or a replacement.
  if (text === undefined || (text.includes('\uFFFD') && !iconv.encode(text, charset).equals(body))) {
    throw malformed(`the body is not valid ${charset}`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Encodes text; a character the charset cannot represent is XR_TRANSLATION, never a silent '?'. */
export function encodeText(text: string, charset: Charset): Buffer {
  const bytes = iconv.encode(text, charset);
  if (decode(bytes, charset) !== text) {
    throw untranslatable(`${firstUnencodable(text, charset)} cannot be represented in ${charset}`);
  }
  return bytes;
}

function firstUnencodable(text: string, charset: Charset): string {
  for (const character of text) {
    if (decode(iconv.encode(character, charset), charset) !== character) {
      return `the character U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    }
  }
  return 'a character';
}
