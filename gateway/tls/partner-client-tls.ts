/**
 * TLS for calls to a partner's endpoint (PROTOCOL §6): its server certificate must chain to a CA registered
 * as a trust anchor for that partner's region — not to the public web PKI — and match the endpoint's host
 * name (Node's default check). With Huzhou's TLS identity configured, it is presented as the client
 * certificate, for partners that require mutual TLS.
 */
import type { HttpsOptions } from 'got';
import type { TrustStore } from '../../certs/trust-store.ts';

export interface ClientIdentity {
  certificate: string;
  key: string;
  passphrase?: string;
}

/** got's `https` options for one partner. A region without anchors gets an empty CA list: nothing verifies (fail closed). */
export function partnerHttpsOptions(trust: TrustStore, region: string, client?: ClientIdentity): HttpsOptions {
  return {
    rejectUnauthorized: true,
    certificateAuthority: trust.anchorCertificates(region).map((cert) => cert.toString()),
    ...(client === undefined ? {} : {
      certificate: client.certificate,
      key: client.key,
      ...(client.passphrase === undefined ? {} : { passphrase: client.passphrase }),
    }),
  };
}
