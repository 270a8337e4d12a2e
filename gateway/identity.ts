/**
 * Huzhou's signing identity: the configured PEM files when XR_SIGNING_KEY_FILE / XR_SIGNING_CERT_FILE are
 * set (they take precedence), else the development PKI kept in the Store (under XR_DATA_DIR), generated on
 * the first start.
 */
import type { Logger } from 'pino';
import { createDevelopmentPki, loadIdentity, signerFromPem } from '../certs/dev-pki.ts';
import type { Signer } from '../certs/jws.ts';
import { ConfigError, type Settings } from '../config/settings.ts';
import type { Store } from './store/store.ts';

const STORED = { key: 'the stored signing key', certificate: 'the stored signing certificate', chain: 'the stored chain' };

export async function loadSigningIdentity(settings: Settings, store: Store, log: Logger): Promise<Signer> {
  if (settings.signingKeyFile !== undefined && settings.signingCertFile !== undefined) {
    try {
      return await loadIdentity({
        keyFile: settings.signingKeyFile,
        certFile: settings.signingCertFile,
        ...(settings.signingChainFile === undefined ? {} : { chainFile: settings.signingChainFile }),
      });
    } catch (error) {
      throw new ConfigError('XR_SIGNING_KEY_FILE', (error as Error).message);
    }
  }
  const stored = await store.getSigningKey();
  if (stored) return signerFromPem(stored, STORED);
  const created = await createDevelopmentPki(settings.region);
  const signer = signerFromPem(created, STORED);
  await store.putSigningKey({ kid: signer.kid, ...created, createdAt: new Date().toISOString() });
  log.warn({ kid: signer.kid }, 'generated a development PKI: not for production (set XR_SIGNING_KEY_FILE and XR_SIGNING_CERT_FILE)');
  return signer;
}
