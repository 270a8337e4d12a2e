/**
 * The raw signature of an XR/1 JWS (RFC 7518 §3): node:crypto's sign/verify, placed where the process's share
 * of the cores is best used (SignaturePlacement). The callback form runs in libuv's thread pool — off the
 * event loop, like WebCrypto, but without WebCrypto's per-call glue.
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
  /** Whether signing is cheap enough to run inline (SignaturePlacement): not RSA's private-key operation. */
  signsInline: boolean;
}

const SCHEMES: Record<SignatureAlgorithm, Scheme> = {
  // JWS ECDSA signatures are R || S, 32 bytes each (RFC 7518 §3.4), not DER.
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' }, signsInline: true },
  RS256: { hash: 'sha256', options: {}, signsInline: false },
  // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signsInline: false },
  EdDSA: { hash: null, options: {}, signsInline: true },
};

/**
 * Where signatures are computed.
 *
 * - 'pool': the callback form, on libuv's thread pool. A process alone on several cores (XR_WORKERS below
 *   their number) spreads its signatures over the cores it would otherwise leave idle.
 * - 'inline': the synchronous form, on the calling thread. With as many gateway processes as cores (the
 *   default XR_WORKERS), every core already has a process, and each pool hand-off (a thread woken, the
 *   result queued back to the event loop) is pure cost: about a quarter of the CPU per message here
 *   (bench/results.md, "Signatures on the event loop").
 *
 * Inline or not, what would hold the event loop for long still goes to the pool: RSA signing (RS256, PS256:
 * ≈ 0.35 ms with a 2048-bit key, ≈ 4 ms with 4096) and inputs over INLINE_MAX_INPUT_BYTES (a 1 MB material
 * takes ≈ 0.7 ms to hash). What runs inline here: an ES256 or EdDSA signature ≈ 40 µs, any verify of a 2 KB
 * message 25–120 µs.
 */
export type SignaturePlacement = 'pool' | 'inline';

const INLINE_MAX_INPUT_BYTES = 64 * 1024;

/** 'inline' when the gateway's processes are at least as many as the cores they share, else 'pool'. */
export function signaturePlacement(processes: number, cores: number): SignaturePlacement {
  return processes >= cores ? 'inline' : 'pool';
}

function runsInline(placement: SignaturePlacement, input: Uint8Array): boolean {
  return placement === 'inline' && input.byteLength <= INLINE_MAX_INPUT_BYTES;
}

export function signBytes(alg: SignatureAlgorithm, input: Uint8Array, privateKey: KeyObject, placement: SignaturePlacement = 'pool'): Promise<Buffer> {
  const { hash, options, signsInline } = SCHEMES[alg];
  if (signsInline && runsInline(placement, input)) {
    // A throw in the executor rejects, as the callback form's error does.
    return new Promise((resolve) => resolve(sign(hash, input, { key: privateKey, ...options })));
  }
  return new Promise((resolve, reject) => {
    sign(hash, input, { key: privateKey, ...options }, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}

export function verifyBytes(alg: SignatureAlgorithm, input: Uint8Array, publicKey: KeyObject, signature: Uint8Array, placement: SignaturePlacement = 'pool'): Promise<boolean> {
  const { hash, options } = SCHEMES[alg];
  if (runsInline(placement, input)) {
    return new Promise((resolve) => resolve(verify(hash, input, { key: publicKey, ...options }, signature)));
  }
  return new Promise((resolve, reject) => {
    verify(hash, input, { key: publicKey, ...options }, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
  });
}
