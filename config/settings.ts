/**
 * Every setting of the gateway, read from the environment (PROTOCOL §1 plus this project's own), validated
 * into one typed object. A bad value is a ConfigError naming the variable: main.ts prints it and exits 1.
 */
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '../gateway/protocol/messages.ts';

export interface Settings {
  region: string;
  host: string;
  partnerPort: number;
  localPort: number;
  adminPort: number;
  dataDir: string;
  /** undefined: generate one on first start and keep it in dataDir (printed once). */
  adminToken: string | undefined;
  localToken: string | undefined;
  /** Read-only admin token (role auditor); optional. */
  auditorToken: string | undefined;
  localBackendUrl: string;
  backendTimeoutMs: number;
  maxBodyBytes: number;
  algorithms: SignatureAlgorithm[];
  /** Configured signing identity (PEM files); when absent a development PKI is made in dataDir. */
  signingKeyFile: string | undefined;
  signingCertFile: string | undefined;
  signingChainFile: string | undefined;
  logLevel: string;
  /** XR_KEY_PASSPHRASE: private keys at rest are encrypted with it; encrypted key files are read with it. */
  keyPassphrase: string | undefined;
  /** XR_TLS_CERT_FILE / XR_TLS_KEY_FILE: the partner listener serves HTTPS; unset, plain HTTP. */
  tls: TlsSettings | undefined;
  /** Worker processes sharing the listeners (node:cluster); 1 runs everything in one process. */
  workers: number;
}

/** XR_TLS_CLIENT_AUTH: whether partners must (require), may (optional) or need not (off) present a client certificate. */
export const TLS_CLIENT_AUTH = ['require', 'optional', 'off'] as const;
export type TlsClientAuth = (typeof TLS_CLIENT_AUTH)[number];

export interface TlsSettings {
  /** PEM: the gateway's TLS certificate first, then its chain. */
  certFile: string;
  /** PEM private key; encrypted ones are read with XR_KEY_PASSPHRASE. */
  keyFile: string;
  clientAuth: TlsClientAuth;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, readonly problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** The documented variables with their defaults (README "Configuration" is generated from the same facts). */
export const DEFAULTS = {
  XR_REGION: '330500',
  XR_HOST: '127.0.0.1',
  XR_PARTNER_PORT: '8080',
  XR_LOCAL_PORT: '8081',
  XR_ADMIN_PORT: '8082',
  XR_DATA_DIR: './data',
  XR_LOCAL_BACKEND_URL: 'http://127.0.0.1:8090',
  XR_BACKEND_TIMEOUT_MS: '10000',
  XR_MAX_BODY_BYTES: String(10 * 1024 * 1024),
  XR_ALGORITHMS: SIGNATURE_ALGORITHMS.join(','),
  XR_LOG_LEVEL: 'info',
  XR_WORKERS: String(os.availableParallelism()),
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function value(env: Env, name: keyof typeof DEFAULTS): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? DEFAULTS[name] : raw.trim();
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function integer(env: Env, name: keyof typeof DEFAULTS, min: number, max: number, what: string): number {
  const raw = value(env, name);
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not ${what}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `${n} is not ${what} (${min}–${max})`);
  return n;
}

function readableFile(env: Env, name: string): string | undefined {
  const file = optional(env, name);
  if (file === undefined) return undefined;
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new ConfigError(name, `cannot read the file ${file}`);
  }
  return file;
}

const MIN_PASSPHRASE_LENGTH = 12;

/** Taken as given (not trimmed): it must equal the passphrase the keys were encrypted with. */
function keyPassphrase(env: Env): string | undefined {
  const passphrase = env.XR_KEY_PASSPHRASE;
  if (passphrase === undefined || passphrase === '') return undefined;
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) throw new ConfigError('XR_KEY_PASSPHRASE', `a passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  return passphrase;
}

function tlsSettings(env: Env): TlsSettings | undefined {
  const certFile = readableFile(env, 'XR_TLS_CERT_FILE');
  const keyFile = readableFile(env, 'XR_TLS_KEY_FILE');
  const clientAuth = optional(env, 'XR_TLS_CLIENT_AUTH') ?? 'off';
  if (!(TLS_CLIENT_AUTH as readonly string[]).includes(clientAuth)) {
    throw new ConfigError('XR_TLS_CLIENT_AUTH', `"${clientAuth}" is not one of ${TLS_CLIENT_AUTH.join(', ')}`);
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(certFile ? 'XR_TLS_KEY_FILE' : 'XR_TLS_CERT_FILE', 'the TLS certificate and key files are set together or not at all');
  }
  if (certFile === undefined || keyFile === undefined) {
    if (clientAuth !== 'off') throw new ConfigError('XR_TLS_CLIENT_AUTH', 'client certificates need TLS: set XR_TLS_CERT_FILE and XR_TLS_KEY_FILE');
    return undefined;
  }
  return { certFile, keyFile, clientAuth: clientAuth as TlsClientAuth };
}

function logLevel(env: Env): string {
  const level = value(env, 'XR_LOG_LEVEL');
  if (!LOG_LEVELS.includes(level)) throw new ConfigError('XR_LOG_LEVEL', `"${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/**
 * @param knownRegion tells whether a code is in the region table (adapters/regions), so that a typo in
 *   XR_REGION is caught at start rather than as audience errors later.
 */
export function loadSettings(env: Env, knownRegion: (code: string) => boolean): Settings {
  const region = value(env, 'XR_REGION');
  if (!/^\d{6}$/.test(region)) throw new ConfigError('XR_REGION', `"${region}" is not a six-digit GB/T 2260 region code`);
  if (!knownRegion(region)) throw new ConfigError('XR_REGION', `${region} is not a known region code`);

  const partnerPort = integer(env, 'XR_PARTNER_PORT', 0, 65535, 'a TCP port');
  const localPort = integer(env, 'XR_LOCAL_PORT', 0, 65535, 'a TCP port');
  const adminPort = integer(env, 'XR_ADMIN_PORT', 0, 65535, 'a TCP port');
  const ports = [['XR_PARTNER_PORT', partnerPort], ['XR_LOCAL_PORT', localPort], ['XR_ADMIN_PORT', adminPort]] as const;
  for (const [name, port] of ports) {
    const clash = ports.find(([other, p]) => other !== name && p === port && port !== 0);
    if (clash) throw new ConfigError(name, `port ${port} is also ${clash[0]}`);
  }

  const localBackendUrl = value(env, 'XR_LOCAL_BACKEND_URL').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(localBackendUrl);
  } catch {
    throw new ConfigError('XR_LOCAL_BACKEND_URL', `"${localBackendUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('XR_LOCAL_BACKEND_URL', `must be http or https, not ${url.protocol}`);
  }

  const algorithms = value(env, 'XR_ALGORITHMS').split(',').map((a) => a.trim()).filter(Boolean);
  for (const alg of algorithms) {
    if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigError('XR_ALGORITHMS', `${alg} is not one of ${SIGNATURE_ALGORITHMS.join(', ')} (none and HS* are never allowed)`);
    }
  }
  if (algorithms.length === 0) throw new ConfigError('XR_ALGORITHMS', 'names no algorithm');

  const signingKeyFile = readableFile(env, 'XR_SIGNING_KEY_FILE');
  const signingCertFile = readableFile(env, 'XR_SIGNING_CERT_FILE');
  if ((signingKeyFile === undefined) !== (signingCertFile === undefined)) {
    throw new ConfigError(signingKeyFile ? 'XR_SIGNING_CERT_FILE' : 'XR_SIGNING_KEY_FILE', 'the signing key and certificate files are set together or not at all');
  }

  const adminToken = optional(env, 'XR_ADMIN_TOKEN');
  const localToken = optional(env, 'XR_LOCAL_TOKEN');
  const auditorToken = optional(env, 'XR_AUDITOR_TOKEN');

  return {
    region,
    host: value(env, 'XR_HOST'),
    partnerPort,
    localPort,
    adminPort,
    dataDir: path.resolve(value(env, 'XR_DATA_DIR')),
    adminToken,
    localToken,
    auditorToken,
    localBackendUrl,
    backendTimeoutMs: integer(env, 'XR_BACKEND_TIMEOUT_MS', 100, 600_000, 'a timeout in milliseconds'),
    maxBodyBytes: integer(env, 'XR_MAX_BODY_BYTES', 1024, 1024 * 1024 * 1024, 'a size in bytes'),
    algorithms: algorithms as SignatureAlgorithm[],
    signingKeyFile,
    signingCertFile,
    signingChainFile: readableFile(env, 'XR_SIGNING_CHAIN_FILE'),
    logLevel: logLevel(env),
    keyPassphrase: keyPassphrase(env),
    tls: tlsSettings(env),
    workers: integer(env, 'XR_WORKERS', 1, 64, 'a number of worker processes'),
  };
}

/** Tokens shorter than this are accepted (PROTOCOL §1 sets no minimum) but warned about at start. */
export const ADVISED_TOKEN_LENGTH = 16;

/**
 * What a start warns about without refusing (main.ts prints it once, to stderr): a token short enough to
 * guess, or one token given for two roles. PROTOCOL §1 only says `npm start` honours the token variables, so
 * a test setup's `XR_ADMIN_TOKEN=admin` must still start the gateway. A token given for two roles grants
 * both (gateway/http/auth.ts): each listener takes it in the role it serves. Never names a token's value.
 */
export function settingWarnings(settings: Pick<Settings, 'adminToken' | 'localToken' | 'auditorToken'>): string[] {
  const tokens = [['XR_ADMIN_TOKEN', settings.adminToken], ['XR_LOCAL_TOKEN', settings.localToken], ['XR_AUDITOR_TOKEN', settings.auditorToken]] as const;
  const warnings: string[] = [];
  tokens.forEach(([name, token], index) => {
    if (token === undefined) return;
    if (token.length < ADVISED_TOKEN_LENGTH) warnings.push(`${name} is shorter than ${ADVISED_TOKEN_LENGTH} characters: easy to guess; use a long random token outside tests`);
    for (const [other, otherToken] of tokens.slice(index + 1)) {
      if (otherToken === token) warnings.push(`${name} and ${other} are the same token: it grants both roles, and the separation between them is lost`);
    }
  });
  return warnings;
}
