/**
 * The raw signature of an XR/1 JWS (RFC 7518 §3): node:crypto's sign/verify in their callback form, which
 * run in libuv's thread pool — off the event loop, like WebCrypto, but without WebCrypto's per-call glue.
 * Measured here (Node 20.20, 2 cores, 2 KB body, bench/results.md "Profile"): through jose on Node 20 every
 * call went through WebCrypto (algorithm normalisation, a job object, a promise hop: ≈ 300 µs of main-thread
 * time per message for one verify and one sign); this form costs a fraction of it, and concurrent ES256
 * verifies reach ≈ 14,500/s. The signing input and header handling are RFC 7797's, in jws.ts; the tests
 * check our signatures with jose, an independent implementation.
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto';
import type { SignatureAlgorithm } from '../gateway/protocol/messages.ts';

interface Scheme {
  /** null: the algorithm hashes itself (Ed25519). */
  hash: 'sha256' | null;
  options: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number };
}

const SCHEMES: Record<SignatureAlgorithm, Scheme> = {
  // JWS ECDSA signatures are R || S, 32 bytes each (RFC 7518 §3.4), not DER.
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  RS256: { hash: 'sha256', options: {} },
  // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  EdDSA: { hash: null, options: {} },
};

export function signBytes(alg: SignatureAlgorithm, input: Uint8Array, privateKey: KeyObject): Promise<Buffer> {
  const { hash, options } = SCHEMES[alg];
  return new Promise((resolve, reject) => {
    sign(hash, input, { key: privateKey, ...options }, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}

export function verifyBytes(alg: SignatureAlgorithm, input: Uint8Array, publicKey: KeyObject, signature: Uint8Array): Promise<boolean> {
  const { hash, options } = SCHEMES[alg];
  return new Promise((resolve, reject) => {
    verify(hash, input, { key: publicKey, ...options }, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
  });
}
