/**
 * Bytes ⇄ text in a family's declared charset (iconv-lite). iconv-lite never fails: it replaces what it
 * cannot decode with U+FFFD and what it cannot encode with '?'. Both are silent data loss, so every
 * conversion here is checked by a round trip and a loss becomes an error.
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
 * The charset to decode an XML body with: the family's, unless the body's own declaration names another
 * one, which is honoured when iconv-lite knows it.
 */
export function xmlBodyCharset(body: Buffer, familyCharset: Charset): string {
  const declared = declaredXmlEncoding(body);
  if (declared === undefined || charsetKey(declared) === charsetKey(familyCharset)) return familyCharset;
  if (!iconv.encodingExists(declared)) throw malformed(`the XML declaration names encoding ${declared}, which is not supported`);
  return declared;
}

/** Decodes the body; bytes that are not valid in `charset` are XR_MALFORMED. A leading BOM is dropped. */
export function decodeBody(body: Buffer, charset: string): string {
  const text = iconv.decode(body, charset, { stripBOM: false });
  // A U+FFFD in the text is either a real U+FFFD (it encodes back to the same bytes) or a replacement.
  if (text.includes('\uFFFD') && !iconv.encode(text, charset).equals(body)) {
    throw malformed(`the body is not valid ${charset}`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Encodes text; a character the charset cannot represent is XR_TRANSLATION, never a silent '?'. */
export function encodeText(text: string, charset: Charset): Buffer {
  const bytes = iconv.encode(text, charset);
  if (iconv.decode(bytes, charset, { stripBOM: false }) !== text) {
    throw untranslatable(`${firstUnencodable(text, charset)} cannot be represented in ${charset}`);
  }
  return bytes;
}

function firstUnencodable(text: string, charset: Charset): string {
  for (const character of text) {
    if (iconv.decode(iconv.encode(character, charset), charset, { stripBOM: false }) !== character) {
      return `the character U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    }
  }
  return 'a character';
}
