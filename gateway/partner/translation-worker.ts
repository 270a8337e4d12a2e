/**
 * The body of the translation thread (translation-thread.ts): a large partner body is decoded, parsed,
 * mapped to canonical and validated here, so that a 1 MB material never holds the requests behind it.
 * It keeps its own FormatRegistry, compiled from the document text each request names: a format changed
 * through the admin API is recompiled here the first time a large message needs it.
 */
import { parentPort } from 'node:worker_threads';
import { FormatRegistry, type ReceivedAs } from '../../adapters/index.ts';
import { RegionTable } from '../../adapters/regions/index.ts';
import { validateCanonical } from '../../adapters/validation/canonical.ts';
import { isXrError, type XrCode } from '../protocol/errors.ts';
import type { MessageType } from '../protocol/messages.ts';

export interface TranslationRequest {
  id: number;
  format: { name: string; source: string };
  messageType: MessageType;
  body: Uint8Array;
  received: ReceivedAs;
}

export type TranslationReply =
  | { id: number; canonical: object }
  | { id: number; refusal: { code: XrCode; detail: string; status: number } }
  | { id: number; failure: string };

const port = parentPort!;
const formats = new FormatRegistry();
const regions = RegionTable.default();

port.on('message', (request: TranslationRequest) => {
  void translate(request).then((reply) => port.postMessage(reply));
});

async function translate(request: TranslationRequest): Promise<TranslationReply> {
  const { id, format, messageType } = request;
  try {
    if (formats.source(format.name) !== format.source) formats.put(format.name, format.source);
    const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const canonical = await formats.get(format.name)!.toCanonical(messageType, 'request', body, request.received);
    return { id, canonical: validateCanonical(messageType, 'request', canonical, regions) };
  } catch (error) {
    if (isXrError(error)) return { id, refusal: { code: error.code, detail: error.detail, status: error.status } };
    return { id, failure: error instanceof Error ? error.message : String(error) };
  }
}
