/**
 * Strict base64 (RFC 4648 §4): the standard alphabet, padding to a multiple of four characters, no line
 * breaks or other characters, zero pad bits. Node's decoder forgives all of that, and re-encoding to compare
 * would cost a second copy of every material on the hot path, so what Node forgives is ruled out around a
 * single decode.
 */

/** The decoded bytes of `text` when it is strict base64, otherwise undefined. */
export function decodeStrictBase64(text: string): Buffer | undefined {
  const { length } = text;
  if (length % 4 !== 0) return undefined;
  const firstPad = text.indexOf('=');
  const padding = firstPad === -1 ? 0 : length - firstPad;
  if (padding > 2 || (padding === 2 && text[length - 1] !== '=')) return undefined;
  // Node reads only the low byte of each UTF-16 unit ('ń' would count as 'D'): allow ASCII only.
  if (Buffer.byteLength(text, 'utf8') !== length) return undefined;
  // Node also accepts the base64url alphabet (RFC 4648 §5).
  if (text.includes('-') || text.includes('_')) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Any other character Node skips or stops at; either leaves fewer than length − padding data characters,
  // and so fewer bytes than a strict encoding of this length holds.
  if (bytes.length !== (length / 4) * 3 - padding) return undefined;
  // Non-zero pad bits ('QR==' decodes like 'QQ=='): the last quantum must be the encoding of its own bytes.
  if (padding > 0 && bytes.subarray(bytes.length - (3 - padding)).toString('base64') !== text.slice(length - 4)) {
    return undefined;
  }
  return bytes;
}
