/**
 * Reads the KeyUsage extension (RFC 5280 §4.2.1.3) from a certificate's DER.
 *
 * Why by hand: Node's `X509Certificate#keyUsage` is, despite its name, the *extended* key usage list
 * (OIDs such as serverAuth), and Node 20 exposes the KeyUsage bits nowhere. The walk below reads only the
 * path tbsCertificate → [3] extensions → keyUsage, on DER that Node has already parsed successfully.
 */
import { Buffer } from 'node:buffer';

/** The KeyUsage bits that XR/1 trust decisions look at. */
export interface KeyUsage {
  readonly digitalSignature: boolean;
  readonly keyCertSign: boolean;
}

const SEQUENCE = 0x30;
const EXTENSIONS = 0xa3; // [3] EXPLICIT, constructed
const OID = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const KEY_USAGE_OID = Buffer.from([0x55, 0x1d, 0x0f]); // 2.5.29.15

/** KeyUsage ::= BIT STRING; bit 0 is the most significant bit of the first content octet. */
const DIGITAL_SIGNATURE_MASK = 0x80; // bit 0
const KEY_CERT_SIGN_MASK = 0x04; // bit 5

/** A present but unreadable extension grants nothing (fail closed). */
const NOTHING_GRANTED: KeyUsage = { digitalSignature: false, keyCertSign: false };

class DerError extends Error {}

interface Tlv {
  tag: number;
  /** First content octet. */
  start: number;
  /** One past the last content octet. */
  end: number;
}

function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined || offset + 2 > limit || (tag & 0x1f) === 0x1f) throw new DerError();
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) throw new DerError();
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[start + i] ?? 0);
    start += octets;
  }
  if (start + length > limit) throw new DerError();
  return { tag, start, end: start + length };
}

function* children(der: Uint8Array, parent: Tlv): Generator<Tlv> {
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readTlv(der, offset, parent.end);
    yield child;
    offset = child.end;
  }
}

function expect(tlv: Tlv | undefined, tag: number): Tlv {
  if (tlv?.tag !== tag) throw new DerError();
  return tlv;
}

function decodeKeyUsage(der: Uint8Array, extension: Tlv): KeyUsage {
  // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  const [, second, third] = [...children(der, extension)];
  const value = expect(second?.tag === BOOLEAN ? third : second, OCTET_STRING);
  const bits = expect(readTlv(der, value.start, value.end), BIT_STRING);
  const firstOctet = bits.end - bits.start > 1 ? (der[bits.start + 1] ?? 0) : 0;
  return {
    digitalSignature: (firstOctet & DIGITAL_SIGNATURE_MASK) !== 0,
    keyCertSign: (firstOctet & KEY_CERT_SIGN_MASK) !== 0,
  };
}

/** The certificate's KeyUsage, or undefined when the extension is absent. */
export function readKeyUsage(der: Uint8Array): KeyUsage | undefined {
  try {
    const certificate = expect(readTlv(der, 0, der.length), SEQUENCE);
    const tbs = expect(readTlv(der, certificate.start, certificate.end), SEQUENCE);
    for (const field of children(der, tbs)) {
      if (field.tag !== EXTENSIONS) continue;
      for (const extension of children(der, expect(readTlv(der, field.start, field.end), SEQUENCE))) {
        const oid = expect(readTlv(der, expect(extension, SEQUENCE).start, extension.end), OID);
        if (Buffer.compare(der.subarray(oid.start, oid.end), KEY_USAGE_OID) === 0) return decodeKeyUsage(der, extension);
      }
    }
    return undefined;
  } catch (error) {
    if (error instanceof DerError) return NOTHING_GRANTED;
    throw error;
  }
}
