/**
 * Time for the outbound side, behind a small interface so tests can drive it (fake timers or their own
 * clock): the current time, and one-shot timers that never keep the process alive.
 */
export interface Clock {
  nowMs(): number;
  /** Calls `fire` after `delayMs`; the returned function cancels it. */
  setTimer(delayMs: number, fire: () => void): () => void;
}

/** setTimeout takes at most a signed 32-bit delay; a longer one fires at once (Node warns and uses 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The process clock. Globals are looked up on every call, so fake timers installed later still apply. */
export function systemClock(nowMs: () => number = () => Date.now()): Clock {
  return {
    nowMs,
    setTimer(delayMs, fire) {
      const timer = setTimeout(fire, Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}
