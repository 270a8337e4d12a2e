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

async function readChunks(request: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; length: number }> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    request.resume();
    throw new XrError('XR_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) {
      request.resume();
      throw new XrError('XR_TOO_LARGE', `the body is over the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return { chunks, length };
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
