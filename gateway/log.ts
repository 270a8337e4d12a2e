/**
 * Structured JSON logs (pino). Redaction is the safety net; the first rule is that no caller logs a body,
 * a token or a key in the first place.
 */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'xr-gateway' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'token', 'privateKey', 'privateKeyPem', 'passphrase', 'body', 'content'],
      censor: '[redacted]',
    },
  }, destination as pino.DestinationStream | undefined);
}
