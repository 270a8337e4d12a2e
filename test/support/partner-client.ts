/**
 * A simulated partner city's sending side: builds XR/1 requests signed in the test (PROTOCOL §2), including
 * deliberately wrong ones (any protected header at all, signed correctly over it), and checks Huzhou's
 * signed answers with nothing but Huzhou's published certificate.
 */
import { X509Certificate, createPublicKey, randomUUID, sign as nodeSign, type KeyObject } from 'node:crypto';
import { flattenedVerify } from 'jose';
import type { Signer } from '../../certs/jws.ts';

export type HeaderMembers = Record<string, unknown>;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Signs `body` under exactly `header` (whatever it holds), detached and unencoded: `hdr..sig`. */
export function signRaw(header: HeaderMembers, body: Buffer, privateKey: KeyObject, alg: string): string {
  const protectedB64 = b64url(JSON.stringify(header));
  const input = Buffer.concat([Buffer.from(`${protectedB64}.`, 'ascii'), body]);
  const algorithm = alg === 'EdDSA' ? null : 'sha256';
  const signature = alg.startsWith('PS')
    ? nodeSign(algorithm, input, { key: privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 })
    : alg.startsWith('ES')
      ? nodeSign(algorithm, input, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : nodeSign(algorithm, input, privateKey);
  return `${protectedB64}..${b64url(signature)}`;
}

export function requestHeader(signer: Signer, options: { iss: string; aud?: string; messageType: string; jti?: string; iat?: number; /** Default true: the signer's chain travels in x5c. */ x5c?: boolean }): HeaderMembers {
  return {
    alg: signer.alg,
    b64: false,
    crit: ['b64'],
    typ: 'xr+jws',
    kid: signer.kid,
    ...(options.x5c === false ? {} : { x5c: signer.chain.map((c) => c.raw.toString('base64')) }),
    iss: options.iss,
    aud: options.aud ?? '330500',
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    jti: options.jti ?? randomUUID(),
    htm: 'POST',
    htu: `/xr/v1/messages/${options.messageType}`,
  };
}

export interface SentMessage {
  status: number;
  headers: Headers;
  body: Buffer;
  json(): Record<string, unknown>;
}

export async function postSigned(partnerUrl: string, messageType: string, body: Buffer, contentType: string, signature: string | undefined, path?: string): Promise<SentMessage> {
  const response = await fetch(`${partnerUrl}${path ?? `/xr/v1/messages/${messageType}`}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'x-xr-signature': signature }) },
    body: new Uint8Array(body),
  });
  const raw = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body: raw, json: () => JSON.parse(raw.toString('utf8')) as Record<string, unknown> };
}

/**
 * Verifies an answer as a partner would: with Huzhou's published leaf certificate (GET /admin/v1/identity),
 * checking that it is addressed to `partnerRegion` and answers `requestJti`. Returns the protected header.
 */
export async function verifyAnswer(answer: SentMessage, huzhouLeafPem: string, partnerRegion: string, requestJti: string | undefined): Promise<HeaderMembers> {
  const value = answer.headers.get('x-xr-signature');
  if (!value) throw new Error('the answer is not signed');
  const [protectedB64, empty, signature] = value.split('.');
  if (empty !== '' || !protectedB64 || !signature) throw new Error('the answer signature is not detached');
  const cert = new X509Certificate(huzhouLeafPem);
  const header = JSON.parse(Buffer.from(protectedB64, 'base64url').toString('utf8')) as HeaderMembers;
  await flattenedVerify({ protected: protectedB64, payload: answer.body, signature }, createPublicKey(cert.publicKey.export({ format: 'pem', type: 'spki' })), {
    algorithms: ['ES256', 'PS256', 'RS256', 'EdDSA'],
    crit: { b64: true },
  });
  if (header.iss !== '330500') throw new Error(`answer iss ${String(header.iss)}`);
  if (header.aud !== partnerRegion) throw new Error(`answer aud ${String(header.aud)}`);
  if (requestJti !== undefined && header.irt !== requestJti) throw new Error(`answer irt ${String(header.irt)} is not ${requestJti}`);
  return header;
}
