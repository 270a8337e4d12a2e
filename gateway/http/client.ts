/**
 * The gateway's HTTP client, for its two outgoing calls: a delivery attempt to a partner (PROTOCOL §6) and a
 * forward to Huzhou's local backend (§4). undici (the HTTP/1.1 client Node's own fetch is built on, kept by
 * the Node.js project), one keep-alive connection pool per origin and TLS setting: ≈ 30 µs of client CPU a
 * request here, against ≈ 75 µs with node:http and its Agent and ≈ 300 µs with got (README, "Why these
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
 * A connection cut before the answer was complete is ECONNRESET; anything else is the socket's own error
 * with Node's code (ECONNREFUSED, a TLS verification code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE). No
 * Accept-Encoding is sent, so an answer arrives as its sender signed it: signatures are checked over the
 * exact bytes (RFC 7797 §3).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { Dispatcher, Pool as UndiciPool } from 'undici';

/**
 * undici's Pool on its own. The package's index loads the whole library (fetch, WebSocket, caches, mocks):
 * ≈ 9.5 MB of resident memory in every gateway process, against ≈ 1 MB for the pool and what it uses
 * (bench/results.md, "Memory at start"). undici 7 declares no `exports`, so the module is reachable; its
 * version is pinned in package.json, and test/gateway/http-client.test.ts exercises it.
 */
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

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
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** From the start of the request to the last byte of the answer. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Used for an https URL only. */
  tls?: TlsClientOptions;
}

export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
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

/**
 * Pools kept per origin, one per TLS setting in use. A partner's setting changes when its anchors or
 * Huzhou's client identity change; the pools of settings no longer used are closed once more than this many
 * exist for the origin (their requests in progress finish first).
 */
const POOLS_PER_ORIGIN = 4;

interface OriginPool {
  tls: TlsClientOptions | undefined;
  pool: UndiciPool;
}

/** The same TLS setting: the trust store hands out the same PEM strings each time, so this is cheap. */
function sameTls(a: TlsClientOptions | undefined, b: TlsClientOptions | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (a.cert !== b.cert || a.key !== b.key || a.passphrase !== b.passphrase || a.rejectUnauthorized !== b.rejectUnauthorized) return false;
  if (a.ca === b.ca) return true;
  if (a.ca === undefined || b.ca === undefined || a.ca.length !== b.ca.length) return false;
  return a.ca.every((pem, index) => pem === b.ca![index]);
}

/** undici's ending for a connection closed before the answer was complete, under the socket's usual code. */
function withSocketCode(error: unknown): unknown {
  if (error instanceof Error && (error as { code?: string }).code === 'UND_ERR_SOCKET') {
    return Object.assign(new Error(`the connection closed before the answer was complete (${error.message})`, { cause: error }), { code: 'ECONNRESET' });
  }
  return error;
}

/**
 * A URL's user and password as Basic credentials, as node:http sends them (XR_LOCAL_BACKEND_URL may carry
 * them; a partner's endpoint may not, PROTOCOL §7). undici would drop them: the origin has no user part.
 */
function withUrlCredentials(url: URL, headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (url.username === '' && url.password === '') return headers;
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`, ...headers };
}

export class HttpClient {
  readonly #pools = new Map<string, OriginPool[]>();
  readonly #maxResponseBytes: number;

  constructor(options: Partial<HttpClientOptions> = {}) {
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  #poolFor(url: URL, tls: TlsClientOptions | undefined): UndiciPool {
    const setting = url.protocol === 'https:' ? tls : undefined;
    const pools = this.#pools.get(url.origin) ?? [];
    const found = pools.find((entry) => sameTls(entry.tls, setting));
    if (found) return found.pool;
    const pool = new Pool(url.origin, {
      // The request's own timer ends it (timeoutMs, from start to last byte); undici's are per phase, its
      // connect timeout (10 s) included.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: 0,
      ...(setting === undefined ? {} : { connect: { ...setting, ca: setting.ca === undefined ? undefined : [...setting.ca] } }),
    });
    pools.push({ tls: setting, pool });
    if (pools.length > POOLS_PER_ORIGIN) void pools.shift()!.pool.close().catch(() => undefined);
    this.#pools.set(url.origin, pools);
    return pool;
  }

  /**
   * undici's dispatch interface, the one its own `request` is built on: the answer's chunks are collected
   * as they arrive, without a stream object, an AbortController or a listener on the caller's signal per
   * request (≈ 20 µs less client CPU a request than `Pool.request`, bench/micro/http-client.ts).
   */
  request(request: HttpRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const { url, signal, timeoutMs } = request;
      const limit = this.#maxResponseBytes;
      if (signal?.aborted) {
        reject(new HttpClientError('ERR_ABORTED', 'the request was cancelled before it started'));
        return;
      }
      let controller: Dispatcher.DispatchController | undefined;
      let settled = false;
      const finish = (error: unknown, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response!);
      };
      // Settles at once with the reason, then drops the exchange and its connection. A request not yet on a
      // connection is dropped as soon as undici starts it (onRequestStart).
      const end = (error: HttpClientError) => {
        if (settled) return;
        finish(error);
        controller?.abort(error);
      };
      const tooLarge = () => new HttpClientError('ERR_RESPONSE_TOO_LARGE', `the answer is longer than ${limit} bytes`);

      let statusCode = 0;
      let headers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let length = 0;
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (started) => {
          controller = started;
          if (settled) started.abort(new HttpClientError('ERR_ABORTED', 'the request ended before it started'));
        },
        onResponseStart: (_controller, status, answerHeaders) => {
          // 1xx interim answers come first, and are not the answer.
          if (status < 200) return;
          statusCode = status;
          headers = answerHeaders;
          if (Number(answerHeaders['content-length']) > limit) end(tooLarge());
        },
        onResponseData: (_controller, chunk) => {
          length += chunk.length;
          if (length > limit) end(tooLarge());
          else chunks.push(chunk);
        },
        onResponseEnd: () => finish(undefined, { statusCode, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length) }),
        onResponseError: (_controller, error) => finish(withSocketCode(error)),
      };
      const timer = setTimeout(() => end(new HttpClientError('ETIMEDOUT', `no complete answer within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => end(new HttpClientError('ERR_ABORTED', 'the request was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#poolFor(url, request.tls).dispatch({
        origin: url.origin,
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers: withUrlCredentials(url, request.headers) ?? null,
        body: request.body ?? null,
      }, handler);
    });
  }

  /** Closes every connection, a request still in progress included: for shutdown, once nothing is being sent. */
  close(): void {
    for (const pools of this.#pools.values()) for (const { pool } of pools) void pool.destroy().catch(() => undefined);
    this.#pools.clear();
  }
}
