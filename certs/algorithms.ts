/**
 * Which key fits which XR/1 signature algorithm (PROTOCOL §2). Checked before a key reaches jose, so that
 * a certificate whose key does not match the header's `alg` is a clean refusal rather than a library error.
 */
import type { KeyObject } from 'node:crypto';
import type { SignatureAlgorithm } from '../gateway/protocol/messages.ts';

/** RFC 7518 §3.3/§3.5 require RSA keys of at least 2048 bits; jose enforces the same. */
const MIN_RSA_BITS = 2048;

/** True when `key` can make or check `alg` signatures: P-256 for ES256, RSA ≥ 2048 for RS256/PS256, Ed25519 for EdDSA. */
export function keyFitsAlgorithm(key: KeyObject, alg: SignatureAlgorithm): boolean {
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    case 'RS256':
    case 'PS256':
      return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS;
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
  }
}

/**
 * The algorithm Huzhou signs with for a given key. RSA keys sign PS256: RSASSA-PSS is the scheme RFC 8017
 * recommends for new applications; RS256 stays accepted from partners.
 */
export function algorithmForKey(key: KeyObject): SignatureAlgorithm | undefined {
  return (['ES256', 'PS256', 'EdDSA'] as const).find((alg) => keyFitsAlgorithm(key, alg));
}
