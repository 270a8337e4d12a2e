/**
 * PROTOCOL §4: the gateway → Huzhou's local backend. Plain HTTP inside Huzhou's network, canonical JSON,
 * the sender and message id in headers. The gateway's HTTP client (http/client.ts) with an explicit timeout
 * and no retries (a retried forward could apply an application twice).
 */
import type { CanonicalDocument } from '../../adapters/canonical.ts';
import { HttpClient, type HttpResponse } from '../http/client.ts';
import { XrError } from '../protocol/errors.ts';
import type { MessageType } from '../protocol/messages.ts';

export interface BackendAnswer {
  status: 200 | 202;
  body: CanonicalDocument;
}

export interface LocalBackend {
  forward(messageType: MessageType, body: object, source: { region: string; messageId: string }): Promise<BackendAnswer>;
}

const MAX_DETAIL = 300;

/** The backend's own explanation of a refusal, for `detail`: the problem's detail/title, or its text, cut short. */
function explanationOf(raw: Buffer): string {
  const text = raw.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { detail?: unknown; title?: unknown; message?: unknown };
    for (const field of [parsed.detail, parsed.message, parsed.title]) {
      if (typeof field === 'string' && field !== '') return field.slice(0, MAX_DETAIL);
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  return text.slice(0, MAX_DETAIL) || 'no explanation given';
}

export function httpLocalBackend(baseUrl: string, timeoutMs: number): LocalBackend {
  const client = new HttpClient();
  // A message type is appended to the base URL's path, whether or not the base ends in '/'.
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return {
    async forward(messageType, body, source) {
      let response: HttpResponse;
      try {
        response = await client.request({
          method: 'POST',
          url: new URL(messageType, base),
          body: JSON.stringify(body),
          headers: {
            'content-type': 'application/json',
            'x-xr-source-region': source.region,
            'x-xr-message-id': source.messageId,
          },
          timeoutMs,
        });
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ETIMEDOUT') throw new XrError('XR_UPSTREAM_TIMEOUT', `the local backend did not answer within ${timeoutMs} ms`, { cause: error });
        if (code === 'ERR_RESPONSE_TOO_LARGE') throw new XrError('XR_UPSTREAM', `the local backend's answer is too large: ${(error as Error).message}`, { cause: error });
        throw new XrError('XR_UPSTREAM', `the local backend could not be reached (${code ?? 'network error'})`, { cause: error });
      }
      const status = response.statusCode;
      if (status >= 400 && status < 500) {
        throw new XrError('XR_REFUSED_BY_BACKEND', explanationOf(response.body), { status });
      }
      if (status !== 200 && status !== 202) throw new XrError('XR_UPSTREAM', `the local backend answered ${status}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.body.toString('utf8'));
      } catch {
        throw new XrError('XR_UPSTREAM', 'the local backend answered with a body that is not JSON');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new XrError('XR_UPSTREAM', 'the local backend answered with JSON that is not an object');
      }
      return { status, body: parsed as CanonicalDocument };
    },
  };
}
