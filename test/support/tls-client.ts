/**
 * An HTTPS client for TLS tests: a fresh connection per request (no pooled connection hides a handshake),
 * trusting only `ca`, presenting a client certificate when given one.
 */
import https from 'node:https';

export interface TlsClientOptions {
  /** PEM: what the client trusts for the server's certificate. */
  ca: string;
  certPem?: string;
  keyPem?: string;
}

export interface TlsAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  json(): Record<string, unknown>;
}

export function httpsRequest(url: string, options: TlsClientOptions & { method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, {
      method: options.method ?? 'GET',
      agent: false,
      ca: options.ca,
      ...(options.certPem === undefined ? {} : { cert: options.certPem, key: options.keyPem }),
      headers: { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(options.body.length) }) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      });
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
