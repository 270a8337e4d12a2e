/**
 * Huzhou's signing identity: the configured PEM files when XR_SIGNING_KEY_FILE / XR_SIGNING_CERT_FILE are
 * set (they take precedence), else the active key of the Store (gateway/keys/lifecycle.ts), else a
 * development PKI generated on the first start. With XR_KEY_PASSPHRASE, stored keys are encrypted at rest
 * (keys stored before it was set are encrypted now); a key that cannot be opened stops the start with a
 * configuration error naming XR_KEY_PASSPHRASE.
 */
import type { Logger } from 'pino';
import { loadIdentity } from '../certs/dev-pki.ts';
import type { Signer } from '../certs/jws.ts';
import { ConfigError, type Settings } from '../config/settings.ts';
import { keyContext } from './keys/key-context.ts';
import { createDevelopmentIdentity, loadActiveSigner, retireEndedOverlaps, sealStoredKeys } from './keys/lifecycle.ts';
import { KeyPassphraseError } from './keys/sealing.ts';
import type { Store } from './store/store.ts';

export async function loadSigningIdentity(settings: Settings, store: Store, log: Logger, nowMs: () => number = Date.now): Promise<Signer> {
  const keys = keyContext(settings, store, nowMs);
  const sealed = await sealStoredKeys(keys);
  if (sealed > 0) log.info({ keys: sealed }, 'stored signing keys encrypted with XR_KEY_PASSPHRASE');
  if (keys.identityFromFiles) {
    try {
      return await loadIdentity({
        keyFile: settings.signingKeyFile!,
        certFile: settings.signingCertFile!,
        ...(settings.signingChainFile === undefined ? {} : { chainFile: settings.signingChainFile }),
        ...(settings.keyPassphrase === undefined ? {} : { passphrase: settings.keyPassphrase }),
      });
    } catch (error) {
      throw new ConfigError('XR_SIGNING_KEY_FILE', (error as Error).message);
    }
  }
  try {
    await retireEndedOverlaps(keys);
    const active = await loadActiveSigner(keys);
    if (active) return active;
  } catch (error) {
    if (error instanceof KeyPassphraseError) throw new ConfigError('XR_KEY_PASSPHRASE', error.message);
    throw error;
  }
  const signer = await createDevelopmentIdentity(keys, settings.region);
  log.warn({ kid: signer.kid }, 'generated a development PKI: not for production (generate a key for Huzhou\'s CA: docs/operations-keys.md)');
  return signer;
}
