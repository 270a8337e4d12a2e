/**
 * Structured JSON logs (pino). Redaction is the safety net; the first rule is that no caller logs a body,
 * a token or a key in the first place.
 *
 * To stdout, lines are gathered up to 4 KiB (or for at most LOG_LIMITS.flushMs, 250 ms) and written
 * together: pino's default writes each line on its own through libuv's thread pool — the pool that also
 * runs every signature check — about a thousand writes a second under load. pino flushes what is gathered
 * when the process exits (its exit hook); a process killed outright (SIGKILL, out of memory) loses at most
 * those last 4 KiB.
 *
 * What a reader of stdout has not taken yet waits in memory, bounded: beyond 16 MiB waiting (a stuck log
 * collector, a reader that stopped), lines are dropped whole and counted (logLinesDropped,
 * xr_log_lines_dropped_total), so a stuck collector cannot take the gateway's memory with it. Writes stay at
 * sonic-boom's 16 KiB: larger ones (1 MiB was tried) cost more than they save, because sonic-boom measures
 * the whole waiting chunk again for every line added to it (bench/results.md, "The log backlog"). The audit
 * trail does not go through here.
 */
import { pino, type Logger } from 'pino';

export interface LogLimits {
  /** Lines are gathered up to this many bytes before a write. */
  gatherBytes: number;
  /** The longest a gathered line waits before it is written. */
  flushMs: number;
  /** The most one write takes of what waits. */
  maxWriteBytes: number;
  /** The most that may wait unwritten; a line beyond it is dropped. */
  maxPendingBytes: number;
}

export const LOG_LIMITS: Readonly<LogLimits> = { gatherBytes: 4096, flushMs: 250, maxWriteBytes: 16 * 1024, maxPendingBytes: 16 * 1024 * 1024 };

let dropped = 0;

/** Lines this process dropped because more than LogLimits.maxPendingBytes waited to be written. */
export function logLinesDropped(): number {
  return dropped;
}

/** The gathered, bounded destination described above, on stdout. */
export function logDestination(limits: Readonly<LogLimits> = LOG_LIMITS): pino.DestinationStream {
  const destination = pino.destination({
    dest: 1,
    sync: false,
    minLength: limits.gatherBytes,
    periodicFlush: limits.flushMs,
    maxWrite: limits.maxWriteBytes,
    maxLength: limits.maxPendingBytes,
  });
  destination.on('drop', () => {
    dropped += 1;
  });
  return destination;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream | pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'xr-gateway' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'token', 'privateKey', 'privateKeyPem', 'passphrase', 'body', 'content'],
      censor: '[redacted]',
    },
  }, (destination as pino.DestinationStream | undefined) ?? logDestination());
}
