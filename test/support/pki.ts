/**
 * A partner city's PKI for tests: a CA (ES256) and a signer certificate it issued, ready to sign XR/1
 * messages and to be registered in a TrustStore (or through the admin API) as that region's trust anchor.
 *
 *     const shanghai = await makePartnerPki('310000');
 *     trustStore.addAnchors('310000', shanghai.caPem);
 *     const signature = await signDetached(body, { iss: '310000', aud: '330500', jti }, shanghai.signer, { includeX5c: true });
 *
 *     const expired = await shanghai.issueLeaf({ notAfter: new Date(Date.now() - 1000) });
 *     const intermediate = await shanghai.issueIntermediate();
 *     const deep = await shanghai.issueLeaf({ issuer: intermediate }); // chain: leaf, intermediate
 */
import type { SignatureAlgorithm } from '../../gateway/protocol/messages.ts';
import { generateKeyPair, issueCertificate, type CertificateIssuer, type KeyUsageProfile } from '../../certs/issue.ts';
import type { Signer } from '../../certs/jws.ts';
import { kidOf } from '../../certs/thumbprint.ts';

export interface LeafOptions {
  /** Default: the PKI's alg. */
  alg?: SignatureAlgorithm;
  /** Default: 'CN=XR signer <region>,O=Partner <region>,C=CN'. */
  subject?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Default: 'signing' (digitalSignature). */
  keyUsage?: KeyUsageProfile;
  /** Hex. */
  serial?: string;
  /** Default: the PKI's CA. Pass an intermediate from issueIntermediate to get a longer chain. */
  issuer?: IssuedAuthority;
}

/** A CA or intermediate: what issues certificates, plus its PEM for registering it. */
export interface IssuedAuthority extends CertificateIssuer {
  pem: string;
}

export interface IssuedSigner {
  /** chain: the leaf, then its intermediate if any — what x5c should carry (the root is the registered anchor). */
  signer: Signer;
  pem: string;
}

export interface PartnerPki {
  region: string;
  ca: IssuedAuthority;
  /** The CA certificate as PEM: the region's trust anchor. */
  caPem: string;
  /** A valid signer issued by the CA with the PKI's alg. */
  signer: Signer;
  issueLeaf(options?: LeafOptions): Promise<IssuedSigner>;
  /** An intermediate CA (ES256) issued by the root CA; not registered anywhere, it travels in x5c. */
  issueIntermediate(subject?: string): Promise<IssuedAuthority>;
}

/** Builds a partner PKI for `region`; `alg` (default ES256) is the signer's algorithm, the CA is always ES256. */
export async function makePartnerPki(region: string, options: { alg?: SignatureAlgorithm } = {}): Promise<PartnerPki> {
  const defaultAlg = options.alg ?? 'ES256';
  const caKeys = await generateKeyPair('ES256');
  const caCert = await issueCertificate({
    subject: `CN=XR CA ${region},O=Partner ${region},C=CN`,
    publicKey: caKeys.publicKey,
    privateKey: caKeys.privateKey,
    isCa: true,
  });
  const ca: IssuedAuthority = { cert: caCert.cert, privateKey: caKeys.privateKey, pem: caCert.pem };

  async function issueLeaf(leaf: LeafOptions = {}): Promise<IssuedSigner> {
    const alg = leaf.alg ?? defaultAlg;
    const issuer = leaf.issuer ?? ca;
    const keys = await generateKeyPair(alg);
    const { cert, pem } = await issueCertificate({
      subject: leaf.subject ?? `CN=XR signer ${region},O=Partner ${region},C=CN`,
      publicKey: keys.publicKey,
      issuer,
      isCa: false,
      keyUsage: leaf.keyUsage ?? 'signing',
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      serial: leaf.serial,
    });
    const chain = issuer === ca ? [cert] : [cert, issuer.cert];
    return { signer: { alg, kid: kidOf(cert), privateKey: keys.privateKey, chain }, pem };
  }

  async function issueIntermediate(subject = `CN=XR issuing CA ${region},O=Partner ${region},C=CN`): Promise<IssuedAuthority> {
    const keys = await generateKeyPair('ES256');
    const { cert, pem } = await issueCertificate({ subject, publicKey: keys.publicKey, issuer: ca, isCa: true });
    return { cert, privateKey: keys.privateKey, pem };
  }

  const { signer } = await issueLeaf();
  return { region, ca, caPem: ca.pem, signer, issueLeaf, issueIntermediate };
}
