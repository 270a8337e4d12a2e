/**
 * Reading a PKCS #12 bundle (RFC 7292) as CAs hand them out: one private key with its certificate and the
 * chain above it. Node has no PKCS #12 parser; node-forge has one (≥ 1.4.3, shared/NOTES.md). forge cannot
 * interpret EC keys or certificates, but it hands their ASN.1 back undecoded — Node's crypto reads those.
 * Never in the request path.
 */
import { Buffer } from 'node:buffer';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type * as Forge from 'node-forge';
import { XrError } from '../gateway/protocol/errors.ts';
import { forgeLibrary } from './lazy-libraries.ts';

export interface Pkcs12Contents {
  privateKey: KeyObject;
  /** The certificate of privateKey first, then each issuer found in the bundle, in order. */
  chain: X509Certificate[];
}

interface DecodedBag {
  key?: Forge.pki.PrivateKey | null;
  cert?: Forge.pki.Certificate | null;
  /** Set by forge when it could not interpret the key or certificate (EC, Ed25519). */
  asn1?: Forge.asn1.Asn1;
}

const MAX_BUNDLE_BYTES = 256 * 1024;

function refused(detail: string): XrError {
  return new XrError('XR_BAD_REQUEST', detail);
}

function derOf(asn1: Forge.asn1.Asn1): Buffer {
  return Buffer.from(forgeLibrary().asn1.toDer(asn1).getBytes(), 'binary');
}

function bagsOf(p12: Forge.pkcs12.Pkcs12Pfx, bagType: string): DecodedBag[] {
  return (p12.getBags({ bagType })[bagType] ?? []) as DecodedBag[];
}

function keyOf(bag: DecodedBag): KeyObject {
  if (bag.key) return createPrivateKey(forgeLibrary().pki.privateKeyToPem(bag.key));
  if (bag.asn1) return createPrivateKey({ key: derOf(bag.asn1), format: 'der', type: 'pkcs8' });
  throw refused('the PKCS#12 bundle holds a key bag without a key');
}

function certificateOf(bag: DecodedBag): X509Certificate {
  if (bag.cert) return new X509Certificate(derOf(forgeLibrary().pki.certificateToAsn1(bag.cert)));
  if (bag.asn1) return new X509Certificate(derOf(bag.asn1));
  throw refused('the PKCS#12 bundle holds a certificate bag without a certificate');
}

/** Leaf first: the certificate of the key, then whichever remaining certificate issued the last one. */
function orderChain(privateKey: KeyObject, certificates: X509Certificate[]): X509Certificate[] {
  const leaf = certificates.find((cert) => cert.checkPrivateKey(privateKey));
  if (leaf === undefined) throw refused('no certificate in the PKCS#12 bundle matches its private key');
  const chain = [leaf];
  for (let current = leaf; ;) {
    const issuer = certificates.find((cert) => !chain.includes(cert) && current.checkIssued(cert) && current.verify(cert.publicKey));
    if (issuer === undefined) return chain;
    chain.push(issuer);
    current = issuer;
  }
}

/** Refuses, naming the problem and never the content: damaged bundle, wrong passphrase, not exactly one key. */
export function readPkcs12(der: Uint8Array, passphrase: string): Pkcs12Contents {
  if (der.length === 0 || der.length > MAX_BUNDLE_BYTES) throw refused(`a PKCS#12 bundle is 1 byte to ${MAX_BUNDLE_BYTES / 1024} KiB`);
  const forge = forgeLibrary();
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary'))), false, passphrase);
  } catch (error) {
    const wrongPassphrase = error instanceof Error && /MAC could not be verified|Invalid password/i.test(error.message);
    throw refused(wrongPassphrase ? 'the PKCS#12 passphrase is wrong (the integrity check failed)' : 'the body is not a readable PKCS#12 bundle (or the passphrase is wrong)');
  }
  try {
    const keys = [...bagsOf(p12, forge.pki.oids.pkcs8ShroudedKeyBag!), ...bagsOf(p12, forge.pki.oids.keyBag!)];
    if (keys.length !== 1) throw refused(`the PKCS#12 bundle holds ${keys.length} private keys; exactly one is expected`);
    const privateKey = keyOf(keys[0]!);
    return { privateKey, chain: orderChain(privateKey, bagsOf(p12, forge.pki.oids.certBag!).map(certificateOf)) };
  } catch (error) {
    if (error instanceof XrError) throw error;
    throw refused('the PKCS#12 bundle holds a key or certificate that cannot be read');
  }
}
