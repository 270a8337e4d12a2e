/**
 * The one error type of the gateway: every refusal anywhere (certs, adapters, storage, HTTP) is an XrError
 * carrying a stable PROTOCOL §5 code. It is turned into problem+json in exactly one place
 * (gateway/http/problem.ts).
 */
export const XR_STATUS = {
  XR_MALFORMED: 400,
  XR_BAD_REQUEST: 400,
  XR_UNAUTHENTICATED: 401,
  XR_SIGNATURE_MISSING: 401,
  XR_SIGNATURE_INVALID: 401,
  XR_ALG_NOT_ALLOWED: 401,
  XR_CERT_UNTRUSTED: 401,
  XR_CERT_EXPIRED: 401,
  XR_CERT_REVOKED: 401,
  XR_CLOCK_SKEW: 401,
  XR_AUDIENCE: 401,
  XR_BINDING: 401,
  XR_PARTNER_UNKNOWN: 403,
  XR_SERVICE_NOT_ALLOWED: 403,
  XR_FORBIDDEN: 403,
  XR_NOT_FOUND: 404,
  XR_REPLAY: 409,
  XR_REFUSED_BY_BACKEND: 400,
  XR_TOO_LARGE: 413,
  XR_UNSUPPORTED_MEDIA: 415,
  XR_TRANSLATION: 422,
  XR_VALIDATION: 422,
  XR_UPSTREAM: 502,
  XR_CIRCUIT_OPEN: 503,
  XR_UPSTREAM_TIMEOUT: 504,
} as const;

export type XrCode = keyof typeof XR_STATUS;

const TITLES: Record<XrCode, string> = {
  XR_MALFORMED: 'Malformed message',
  XR_BAD_REQUEST: 'Bad request',
  XR_UNAUTHENTICATED: 'Missing or wrong token',
  XR_SIGNATURE_MISSING: 'Signature missing',
  XR_SIGNATURE_INVALID: 'Signature invalid',
  XR_ALG_NOT_ALLOWED: 'Signature algorithm not allowed',
  XR_CERT_UNTRUSTED: 'Certificate not trusted',
  XR_CERT_EXPIRED: 'Certificate outside its validity period',
  XR_CERT_REVOKED: 'Certificate revoked',
  XR_CLOCK_SKEW: 'Signing time out of range',
  XR_AUDIENCE: 'Wrong audience',
  XR_BINDING: 'Signature not bound to this request',
  XR_PARTNER_UNKNOWN: 'Unknown partner',
  XR_SERVICE_NOT_ALLOWED: 'Message type not allowed for this partner',
  XR_FORBIDDEN: 'Token lacks the required role',
  XR_NOT_FOUND: 'Not found',
  XR_REPLAY: 'Message already accepted',
  XR_REFUSED_BY_BACKEND: 'Refused by the backend',
  XR_TOO_LARGE: 'Body too large',
  XR_UNSUPPORTED_MEDIA: 'Unsupported media type',
  XR_TRANSLATION: 'Message cannot be translated',
  XR_VALIDATION: 'Message failed validation',
  XR_UPSTREAM: 'Backend error',
  XR_CIRCUIT_OPEN: 'Partner circuit open',
  XR_UPSTREAM_TIMEOUT: 'Backend timeout',
};

export class XrError extends Error {
  readonly code: XrCode;
  /** HTTP status; XR_REFUSED_BY_BACKEND carries the backend's own 4xx. */
  readonly status: number;
  readonly title: string;
  /** Safe to show a caller: never key material, tokens or the message body (PROTOCOL §5). */
  readonly detail: string;
  /** Extra response headers, e.g. Retry-After for XR_CIRCUIT_OPEN. */
  readonly headers: Record<string, string>;

  constructor(code: XrCode, detail: string, options: { status?: number; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XrError';
    this.code = code;
    this.status = options.status ?? XR_STATUS[code];
    this.title = TITLES[code];
    this.detail = detail;
    this.headers = options.headers ?? {};
  }
}

export function isXrError(value: unknown): value is XrError {
  return value instanceof XrError;
}
