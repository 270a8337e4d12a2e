/**
 * Structured JSON logs (pino). Redaction is the safety net; the first rule is that no caller logs a body,
 * a token or a key in the first place.
 *
 * To stdout, lines are gathered up to 4 KiB (or for at most LOG_FLUSH_MS) and written together: pino's
 * default writes each line on its own through libuv's thread pool — the pool that also runs every
 * signature check — about a thousand writes a second under load. pino flushes what is gathered when the
 * process exits (its exit hook); a process killed outright (SIGKILL, out of memory) loses at most those
 * last 4 KiB.
 */
import { pino, type Logger } from 'pino';

/** The longest a gathered line waits before it is written. */
export const LOG_FLUSH_MS = 250;
const LOG_GATHER_BYTES = 4096;

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'xr-gateway' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'token', 'privateKey', 'privateKeyPem', 'passphrase', 'body', 'content'],
      censor: '[redacted]',
    },
  }, (destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false, minLength: LOG_GATHER_BYTES, periodicFlush: LOG_FLUSH_MS }));
}
