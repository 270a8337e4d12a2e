/**
 * Private keys at rest. With XR_KEY_PASSPHRASE set, every key the gateway stores is encrypted PKCS #8
 * (RFC 5958 EncryptedPrivateKeyInfo, PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC — what OpenSSL writes,
 * so `openssl pkcs8` can read it); without it keys are plain PKCS #8. Error messages name the key, never
 * its content or the passphrase.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';

const ENCRYPTED_LABEL = '-----BEGIN ENCRYPTED PRIVATE KEY-----';

/** A stored key cannot be opened: no passphrase for an encrypted key, or the wrong one. */
export class KeyPassphraseError extends Error {
  constructor(readonly reason: 'missing' | 'wrong', keyName: string) {
    super(reason === 'missing'
      ? `${keyName} is stored encrypted: set XR_KEY_PASSPHRASE to the passphrase it was stored with`
      : `XR_KEY_PASSPHRASE does not decrypt ${keyName}`);
    this.name = 'KeyPassphraseError';
  }
}

export function isSealed(pem: string): boolean {
  return pem.includes(ENCRYPTED_LABEL);
}

/** The PEM to store: encrypted when a passphrase is given. */
export function sealPrivateKey(key: KeyObject, passphrase: string | undefined): string {
  if (passphrase === undefined) return key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString();
}

/** Reads a stored key; `keyName` says which one in errors ("signing key 3f09a1c2b4d5"). */
export function openPrivateKey(pem: string, passphrase: string | undefined, keyName: string): KeyObject {
  if (!isSealed(pem)) return createPrivateKey(pem);
  if (passphrase === undefined) throw new KeyPassphraseError('missing', keyName);
  try {
    return createPrivateKey({ key: pem, passphrase });
  } catch {
    throw new KeyPassphraseError('wrong', keyName);
  }
}
