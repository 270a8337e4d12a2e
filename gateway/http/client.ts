/**
 * The gateway's HTTP client, for its two outgoing calls: a delivery attempt to a partner (PROTOCOL §6) and a
 * forward to Huzhou's local backend (§4). Plain node:http/node:https with keep-alive agents, because that is
 * all these calls need and it is cheap: about a third of got's client CPU per request (README, "Why these
 * libraries"; `npx tsx bench/micro/http-client.ts`).
 *
 * What it does, and nothing more: one request, any status is an answer (no redirects, no retries — the outbox
 * retries, and a retried forward could apply an application twice), the body read whole into a Buffer up
 * to a limit, and three endings of its own as errors with stable codes:
 *
 *   ETIMEDOUT               no complete answer within the request's total timeout (the request is destroyed)
 *   ERR_ABORTED             the caller's AbortSignal fired (the request is destroyed)
 *   ERR_RESPONSE_TOO_LARGE  the answer is longer than the limit (declared or as it arrives)
 *
 * Anything else is the socket's own error with Node's code (ECONNREFUSED, ECONNRESET, a TLS verification
 * code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE). No Accept-Encoding is sent, so an answer arrives as its
 * sender signed it: signatures are checked over the exact bytes (RFC 7797 §3).
 */
import http from 'node:http';
import https from 'node:https';

/** TLS settings of one https request (node:tls names): whom to trust, and the client certificate to present. */
export interface TlsClientOptions {
  ca?: readonly string[];
  cert?: string;
  key?: string;
  passphrase?: string;
  rejectUnauthorized?: boolean;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
  /** From the start of the request to the last byte of the answer. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Used for an https URL only. */
  tls?: TlsClientOptions;
}

export interface HttpResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type HttpClientErrorCode = 'ETIMEDOUT' | 'ERR_ABORTED' | 'ERR_RESPONSE_TOO_LARGE';

export class HttpClientError extends Error {
  constructor(readonly code: HttpClientErrorCode, message: string) {
    super(message);
    this.name = 'HttpClientError';
  }
}

export interface HttpClientOptions {
  /** The longest answer body read; a longer one is ERR_RESPONSE_TOO_LARGE. */
  maxResponseBytes: number;
}

/** The default answer limit: the gateway's own default body limit (XR_MAX_BODY_BYTES). */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

function nodeTlsOptions({ ca, ...rest }: TlsClientOptions): https.RequestOptions {
  return { ...rest, ...(ca === undefined ? {} : { ca: [...ca] }) };
}

export class HttpClient {
  readonly #agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  readonly #maxResponseBytes: number;

  constructor(options: Partial<HttpClientOptions> = {}) {
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  request(request: HttpRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const { url, signal, timeoutMs } = request;
      const limit = this.#maxResponseBytes;
      if (signal?.aborted) {
        reject(new HttpClientError('ERR_ABORTED', 'the request was cancelled before it started'));
        return;
      }
      let settled = false;
      const finish = (error: Error | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response!);
      };
      // Settles at once with the reason, then drops the exchange: before the answer, the request (and its
      // connection); during it, the answer, which closes the connection unless the answer had in fact fully
      // arrived (then the connection is clean and goes back to the pool).
      let answer: http.IncomingMessage | undefined;
      const end = (error: Error) => {
        finish(error);
        if (answer) answer.destroy();
        else outgoing.destroy();
      };
      const tooLarge = () => new HttpClientError('ERR_RESPONSE_TOO_LARGE', `the answer is longer than ${limit} bytes`);

      const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
      const secure = url.protocol === 'https:';
      const options: https.RequestOptions = {
        method: request.method,
        headers: body === undefined ? request.headers : { ...request.headers, 'content-length': body.length },
        agent: secure ? this.#agents.https : this.#agents.http,
        ...(secure && request.tls ? nodeTlsOptions(request.tls) : {}),
      };
      const outgoing = (secure ? https : http).request(url, options, (incoming) => {
        answer = incoming;
        // Listened to first: a destroyed request makes its answer emit an error, which must not go unheard.
        incoming.on('error', (error) => finish(error));
        incoming.on('close', () => {
          if (!incoming.complete) finish(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
        });
        if (Number(incoming.headers['content-length']) > limit) {
          end(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let length = 0;
        incoming.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > limit) end(tooLarge());
          else chunks.push(chunk);
        });
        incoming.on('end', () => finish(undefined, {
          statusCode: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length),
        }));
      });
      outgoing.on('error', (error) => finish(error));
      const timer = setTimeout(() => end(new HttpClientError('ETIMEDOUT', `no complete answer within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => end(new HttpClientError('ERR_ABORTED', 'the request was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      outgoing.end(body);
    });
  }

  /** Closes every connection, a request still in progress included: for shutdown, once nothing is being sent. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}
