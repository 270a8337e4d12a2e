/**
 * Reads the request body as the exact bytes received: signatures are checked over these bytes, never over a
 * re-serialised form (RFC 7797 §3, shared/NOTES.md on xml2js). A declared Content-Length over the limit is
 * refused before reading; a chunked body is cut off as soon as it passes the limit.
 */
import type { IncomingMessage } from 'node:http';
import type { SignedBody } from '../../certs/jws.ts';
import { XrError } from '../protocol/errors.ts';

export async function readRawBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const { chunks, length } = await readChunks(request, limit);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

/**
 * The body read straight into its signing input, after `prefix` (certs/jws.ts signingInputPrefix): one copy
 * of the bytes in all, where reading the body and then building its signing input makes two. `limit` is the
 * body's own.
 */
export async function readBodyAfter(request: IncomingMessage, limit: number, prefix: Buffer): Promise<SignedBody> {
  const { chunks, length } = await readChunks(request, limit);
  const signingInput = Buffer.concat([prefix, ...chunks], prefix.length + length);
  return { signingInput, body: signingInput.subarray(prefix.length) };
}

/**
 * The body's chunks, up to `limit` bytes. Over it, the rest is drained unread and the request refused: the
 * request stream must not be destroyed (an async iterator left early does that), or the connection would
 * stay open with the client's bytes unread, never closing — and the gateway could not stop (a server's
 * close waits for its connections). Node ends a drain that never ends at `server.requestTimeout`.
 */
function readChunks(request: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; length: number }> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    request.resume();
    return Promise.reject(new XrError('XR_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      chunks.length = 0;
      request.resume();
      reject(new XrError('XR_TOO_LARGE', `the body is over the limit of ${limit} bytes`));
    };
    const onEnd = () => {
      stop();
      resolve({ chunks, length });
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      stop();
      reject(Object.assign(new Error('the client closed the connection before the body ended'), { code: 'ECONNRESET' }));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

export interface MediaType {
  /** Lower-case type/subtype without parameters. */
  essence: string;
  charset: string | undefined;
}

export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [essence, ...parameters] = header.split(';');
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=');
    if (name?.trim().toLowerCase() === 'charset' && value) charset = value.trim().replace(/^"|"$/g, '');
  }
  return { essence: essence!.trim().toLowerCase(), charset };
}
