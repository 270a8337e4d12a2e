/**
 * Bytes ⇄ text in a family's declared charset (iconv-lite). iconv-lite never fails: it replaces what it
 * cannot decode with U+FFFD and what it cannot encode with '?'. Both are silent data loss, so every
 * conversion here is checked by a round trip and a loss becomes an error.
 *
 * UTF-8 and GB18030 are decoded by Node's own TextDecoder (ICU, fatal), several times faster than
 * iconv-lite and stricter: bytes it refuses are not valid in the charset and are refused, where iconv-lite
 * would read some of them (GB18030's unassigned codes). GB18030 is read and written as its 2022 edition
 * (below).
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
 * GB18030-2022 (mandatory since August 2023) gave 18 two-byte codes standard code points where GB18030-2005
 * had private-use ones: A6D9–A6DF, A6EC, A6ED, A6F3 are U+FE10–U+FE19 (vertical punctuation), FE59, FE61,
 * FE66, FE67, FE6D, FE7E, FE90, FEA0 are U+9FB4–U+9FBB (CJK). The gateway reads and writes them the 2022
 * way, as a partner on the current edition means them. Node's ICU decodes them so; iconv-lite, which encodes
 * here, is still on 2005 (U+E78D…, U+E81E…): text is handed to it with these code points swapped for the
 * private-use ones it writes as the same two bytes. A private-use U+E78D itself then has no code of its own
 * and is refused on the way out (XR_TRANSLATION), never written as bytes that read as another character.
 */
const GB18030_2022: ReadonlyMap<string, string> = new Map([
  ['\uFE10', '\uE78D'], ['\uFE12', '\uE78E'], ['\uFE11', '\uE78F'], ['\uFE13', '\uE790'], ['\uFE14', '\uE791'],
  ['\uFE15', '\uE792'], ['\uFE16', '\uE793'], ['\uFE17', '\uE794'], ['\uFE18', '\uE795'], ['\uFE19', '\uE796'],
  ['\u9FB4', '\uE81E'], ['\u9FB5', '\uE826'], ['\u9FB6', '\uE82B'], ['\u9FB7', '\uE82C'], ['\u9FB8', '\uE832'],
  ['\u9FB9', '\uE843'], ['\u9FBA', '\uE854'], ['\u9FBB', '\uE864'],
]);
const GB18030_2005: ReadonlyMap<string, string> = new Map([...GB18030_2022].map(([standard, privateUse]) => [privateUse, standard]));
const anyOf = (characters: Iterable<string>): RegExp => new RegExp(`[${[...characters].join('')}]`, 'g');
const MOVED_IN_2022 = anyOf(GB18030_2022.keys());
const MOVED_FROM_2005 = anyOf(GB18030_2005.keys());

/** By charsetKey: Node's standard decoders (ICU; fatal: invalid bytes throw; ignoreBOM: a BOM stays in the text, as with iconv-lite). */
const NATIVE_DECODERS: ReadonlyMap<string, TextDecoder | undefined> = new Map([
  ['utf8', nativeDecoder('utf-8')],
  ['gb18030', nativeDecoder('gb18030')],
]);

function nativeDecoder(label: string): TextDecoder | undefined {
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: true });
  } catch {
    return undefined; // a Node built with small ICU has no GB18030: iconv-lite does it all
  }
}

/**
 * The text of `bytes`, or undefined when they are not valid in the charset. Where a standard decoder
 * exists it decides: bytes it refuses are not valid, where iconv-lite would read some of them anyway (e.g.
 * GB18030's unassigned four-byte codes: 84 31 A5 30 as U+10000), which no encoder produces.
 */
function decode(bytes: Buffer, charset: string): string | undefined {
  const key = charsetKey(charset);
  const native = NATIVE_DECODERS.get(key);
  if (native !== undefined) {
    try {
      return native.decode(bytes);
    } catch {
      return undefined;
    }
  }
  const text = iconv.decode(bytes, charset, { stripBOM: false });
  return key === 'gb18030' ? text.replace(MOVED_FROM_2005, (character) => GB18030_2005.get(character)!) : text;
}

function encode(text: string, charset: string): Buffer {
  const input = charsetKey(charset) === 'gb18030' ? text.replace(MOVED_IN_2022, (character) => GB18030_2022.get(character)!) : text;
  return iconv.encode(input, charset);
}

/** Decodes the body; bytes that are not valid in `charset` are XR_MALFORMED. A leading BOM is dropped. */
export function decodeBody(body: Buffer, charset: string): string {
  const text = decode(body, charset);
  // A U+FFFD in the text is either a real U+FFFD (it encodes back to the same bytes) or a replacement.
  if (text === undefined || (text.includes('\uFFFD') && !encode(text, charset).equals(body))) {
    throw malformed(`the body is not valid ${charset}`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Encodes text; a character the charset cannot represent is XR_TRANSLATION, never a silent '?'. */
export function encodeText(text: string, charset: Charset): Buffer {
  const bytes = encode(text, charset);
  if (decode(bytes, charset) !== text) {
    throw untranslatable(`${firstUnencodable(text, charset)} cannot be represented in ${charset}`);
  }
  return bytes;
}

function firstUnencodable(text: string, charset: Charset): string {
  for (const character of text) {
    if (decode(encode(character, charset), charset) !== character) {
      return `the character U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    }
  }
  return 'a character';
}
