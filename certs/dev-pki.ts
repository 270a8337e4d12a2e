/**
 * Huzhou's own signing identity: either operator-supplied PEM files (loadIdentity) or, when none are
 * configured, a development PKI (createDevelopmentPki) that the gateway generates once and keeps in its
 * Store. Which one applies is the caller's decision. Error messages name sources, never key material.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isXrError } from '../gateway/protocol/errors.ts';
import { REGION_CODE } from '../gateway/protocol/messages.ts';
import { algorithmForKey } from './algorithms.ts';
import { generateKeyPair, issueCertificate, toPem } from './issue.ts';
import type { Signer } from './jws.ts';
import { parseCertificateBundle } from './pem.ts';
import { kidOf } from './thumbprint.ts';

export interface IdentityFiles {
  /** PEM private key (PKCS#8 or traditional); encrypted ones need `passphrase`. */
  keyFile: string;
  /** For an encrypted key file (XR_KEY_PASSPHRASE). */
  passphrase?: string;
  /** PEM: the signer certificate first, optionally followed by its chain. */
  certFile: string;
  /** PEM: further chain certificates, appended after those of certFile. */
  chainFile?: string;
}

/** A signing identity as text, the way the gateway keeps it in its Store. */
export interface IdentityPem {
  privateKeyPem: string;
  /** The signing certificate first, then the certificates that issued it. */
  chainPem: string[];
}

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Generates a development PKI for `region`: a CA (ES256, 10 years) and an ES256 signing certificate it
 * issues (2 years, digitalSignature). The CA's private key is dropped — a development CA signs once, and
 * an unused key is one less secret at rest. The caller keeps the result (the gateway, in its Store).
 */
export async function createDevelopmentPki(region: string): Promise<IdentityPem> {
  if (!REGION_CODE.test(region)) throw new Error(`region ${region} is not a 6-digit region code`);
  const caKeys = await generateKeyPair('ES256');
  const ca = await issueCertificate({
    subject: 'CN=Huzhou XR Development CA,O=Huzhou,C=CN',
    publicKey: caKeys.publicKey,
    privateKey: caKeys.privateKey,
    isCa: true,
    notAfter: new Date(Date.now() + 10 * YEAR_MS),
  });
  const signingKeys = await generateKeyPair('ES256');
  const signing = await issueCertificate({
    subject: `CN=XR gateway ${region} (development),O=Huzhou,C=CN`,
    publicKey: signingKeys.publicKey,
    issuer: { cert: ca.cert, privateKey: caKeys.privateKey },
    isCa: false,
    keyUsage: 'signing',
    notAfter: new Date(Date.now() + 2 * YEAR_MS),
  });
  return { privateKeyPem: toPem(signingKeys.privateKey), chainPem: [signing.pem, ca.pem] };
}

/** Loads a configured signing identity; the key must match the first certificate and the chain must link up. */
export async function loadIdentity(files: IdentityFiles): Promise<Signer> {
  const key = await readText(files.keyFile, 'signing key');
  const certs = await readText(files.certFile, 'certificate');
  const extra = files.chainFile === undefined ? '' : await readText(files.chainFile, 'chain');
  const chainSource = files.chainFile === undefined ? files.certFile : `${files.certFile} and ${files.chainFile}`;
  const source = { key: `signing key file ${files.keyFile}`, certificate: `certificate file ${files.certFile}`, chain: chainSource };
  return signerFromKey(readPrivateKey(source.key, key, files.passphrase), [certs, extra].filter(Boolean), source);
}

/**
 * Builds a Signer from PEM text, checking what a partner will rely on: the key is usable for XR/1, matches
 * the first certificate, and each certificate was issued by the next. `source` names where the text came
 * from, for messages that never contain key material.
 */
export function signerFromPem(identity: IdentityPem, source: { key: string; certificate: string; chain: string }): Signer {
  return signerFromKey(readPrivateKey(source.key, identity.privateKeyPem), identity.chainPem, source);
}

/** As signerFromPem, for a key already read (an encrypted key once decrypted). */
export function signerFromKey(privateKey: KeyObject, chainPem: readonly string[], source: { key: string; certificate: string; chain: string }): Signer {
  const chain = chainPem.flatMap((pem) => readCertificates(source.certificate, pem));
  const leaf = chain[0];
  if (leaf === undefined || !keyMatches(leaf, privateKey)) {
    throw new Error(`${source.key} does not match ${source.certificate}`);
  }
  const alg = algorithmForKey(privateKey);
  if (alg === undefined) {
    throw new Error(`${source.key} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; XR/1 signs with EC P-256, RSA ≥ 2048 or Ed25519`);
  }
  checkChainOrder(chain, source.chain);
  return { alg, kid: kidOf(leaf), privateKey, chain };
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} file ${file} (${errnoCode(error) ?? 'unreadable'})`);
  }
}

function readPrivateKey(source: string, pem: string, passphrase?: string): KeyObject {
  const encrypted = pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && passphrase === undefined) throw new Error(`${source} is encrypted: set XR_KEY_PASSPHRASE`);
  try {
    return createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
  } catch {
    throw new Error(encrypted ? `${source} cannot be decrypted with XR_KEY_PASSPHRASE` : `${source} does not hold a usable PEM private key`);
  }
}

function readCertificates(source: string, pem: string): X509Certificate[] {
  try {
    return parseCertificateBundle(pem);
  } catch (error) {
    if (isXrError(error)) throw new Error(`${source}: ${error.detail}`);
    throw error;
  }
}

function keyMatches(cert: X509Certificate, privateKey: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

/** Partners build the path from x5c in this order (leaf first), so a misordered file is refused here. */
function checkChainOrder(chain: X509Certificate[], sources: string): void {
  chain.slice(1).forEach((issuer, index) => {
    const child = chain[index];
    if (child !== undefined && !(child.checkIssued(issuer) && child.verify(issuer.publicKey))) {
      throw new Error(`certificate chain in ${sources} is out of order: certificate #${index + 2} did not issue #${index + 1}`);
    }
  });
}

function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
