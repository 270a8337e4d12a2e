/** Reading PEM certificate bundles (RFC 7468) as operators paste them. */
import { Buffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import { XrError } from '../gateway/protocol/errors.ts';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/g;
const BEGIN_LINE = /-----BEGIN /g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses every CERTIFICATE block of a PEM text, in order. Explanatory text between blocks is ignored
 * (RFC 7468 §2); anything else — no certificate at all, a block of another kind (a private key pasted by
 * mistake), an unterminated block or a block that is not X.509 — refuses the whole bundle with
 * XR_BAD_REQUEST naming the problem, never echoing the content.
 */
export function parseCertificateBundle(pemText: string): X509Certificate[] {
  const blocks = [...pemText.matchAll(PEM_BLOCK)];
  if (blocks.length !== (pemText.match(BEGIN_LINE)?.length ?? 0)) {
    throw new XrError('XR_BAD_REQUEST', 'PEM text has an unterminated or mismatched BEGIN/END block');
  }
  if (blocks.length === 0) {
    throw new XrError('XR_BAD_REQUEST', 'no PEM certificate found (expected -----BEGIN CERTIFICATE-----)');
  }
  return blocks.map(([, label, body], index) => {
    const position = `PEM block #${index + 1}`;
    if (label !== 'CERTIFICATE') {
      throw new XrError('XR_BAD_REQUEST', `${position} is a ${label ?? 'unknown'} block; only CERTIFICATE blocks are accepted`);
    }
    const base64 = (body ?? '').replace(/\s+/g, '');
    if (!BASE64.test(base64)) throw new XrError('XR_BAD_REQUEST', `${position} is not valid base64`);
    try {
      return new X509Certificate(Buffer.from(base64, 'base64'));
    } catch {
      throw new XrError('XR_BAD_REQUEST', `${position} is not an X.509 certificate`);
    }
  });
}
