/** XR/1 vocabulary shared by every part of the gateway (PROTOCOL §2, §3). */
export const MESSAGE_TYPES = ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export function isMessageType(value: string): value is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** A request travels partner → Huzhou (or Huzhou → partner); the response is the answer to it. */
export type Direction = 'request' | 'response';

/** The six-digit GB/T 2260 code shape; whether the code exists is the region table's question. */
export const REGION_CODE = /^\d{6}$/;

export const SIGNATURE_HEADER = 'x-xr-signature';
export const IDEMPOTENCY_HEADER = 'x-xr-idempotency-key';
export const JWS_TYP = 'xr+jws';
/** PROTOCOL §2: |now − iat| ≤ 300 s; the replay cache keeps (iss, jti) at least twice that long. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
export const REPLAY_WINDOW_SECONDS = 2 * MAX_CLOCK_SKEW_SECONDS;

/** |now − iat| in seconds, now exact to the millisecond (0.999 s past a whole second is not that second), when over MAX_CLOCK_SKEW_SECONDS; else undefined. */
export function excessClockSkew(nowMs: number, iat: number): number | undefined {
  const skewMs = Math.abs(nowMs - iat * 1000);
  return skewMs > MAX_CLOCK_SKEW_SECONDS * 1000 ? skewMs / 1000 : undefined;
}
export const SIGNATURE_ALGORITHMS = ['ES256', 'PS256', 'RS256', 'EdDSA'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];
