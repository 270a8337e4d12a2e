/**
 * TLS for calls to a partner's endpoint (PROTOCOL §6): its server certificate must chain to a CA registered
 * as a trust anchor for that partner's region — not to the public web PKI — and match the endpoint's host
 * name (Node's default check). With Huzhou's TLS identity configured, it is presented as the client
 * certificate, for partners that require mutual TLS.
 */
import type { TrustStore } from '../../certs/trust-store.ts';
import type { TlsClientOptions } from '../http/client.ts';

export interface ClientIdentity {
  certificate: string;
  key: string;
  passphrase?: string;
}

/**
 * The TLS options (node:tls names) of a request to one partner. A region without anchors gets an empty CA
 * list: nothing verifies (fail closed). The PEM strings come from the trust store's cache, so every attempt
 * to a region passes the same strings, and its connections share one keep-alive pool.
 */
export function partnerTlsOptions(trust: TrustStore, region: string, client?: ClientIdentity): TlsClientOptions {
  return {
    rejectUnauthorized: true,
    ca: trust.anchorPems(region),
    ...(client === undefined ? {} : {
      cert: client.certificate,
      key: client.key,
      ...(client.passphrase === undefined ? {} : { passphrase: client.passphrase }),
    }),
  };
}
