/**
 * A healthy partner city for the outbound benchmark (PROTOCOL §6): it takes Huzhou's signed messages on
 * `POST /xr/v1/messages/{messageType}`, verifies Huzhou's signature over the raw body with Huzhou's
 * published certificate, and answers 200 with a receipt in its own format, signed (iss its region, aud
 * 330500, irt the request's jti, its certificate in x5c). Lean node:http, no translation of the request:
 * it should cost the shared CPU as little as a partner can while still doing both signatures.
 *
 * `GET /stats` tells how many distinct messages (by X-XR-Idempotency-Key) it has answered, and how many
 * requests were repeats or refused: the benchmark's delivered count.
 *
 * BENCH_PARTNER_CONFIG: a JSON file {region, format, privateKeyPem, chainPem, huzhouLeafPem}.
 */
import { X509Certificate, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FormatRegistry } from '../../adapters/index.ts';
import { signerFromPem } from '../../certs/dev-pki.ts';
import { parseSignatureHeader, signDetached, verifyDetached } from '../../certs/jws.ts';
import { isMessageType, type MessageType } from '../../gateway/protocol/messages.ts';
import { defaultReply } from '../../test/support/backend.ts';

interface PartnerConfig {
  region: string;
  format: string;
  privateKeyPem: string;
  chainPem: string[];
  huzhouLeafPem: string;
}

const config = JSON.parse(readFileSync(process.env.BENCH_PARTNER_CONFIG!, 'utf8')) as PartnerConfig;
const source = { key: 'partner key', certificate: 'partner certificate', chain: 'partner chain' };
const signer = signerFromPem({ privateKeyPem: config.privateKeyPem, chainPem: config.chainPem }, source);
const huzhouKey = new X509Certificate(config.huzhouLeafPem).publicKey;
const format = FormatRegistry.withShippedFormats().get(config.format)!;

/** One receipt per message type, in the partner's format, made once: the gateway reads it, we do not vary it. */
const receipts = new Map<MessageType, Buffer>();
async function receiptFor(messageType: MessageType): Promise<Buffer> {
  let receipt = receipts.get(messageType);
  if (!receipt) {
    const canonical = defaultReply({ messageType, headers: {}, body: { applyNo: '3101172026112700001', verifyNo: 'V1', licenceNo: 'L1' } }).body;
    receipt = await format.fromCanonical(messageType, 'response', canonical as Parameters<typeof format.fromCanonical>[2]);
    receipts.set(messageType, receipt);
  }
  return receipt;
}

const answered = new Set<string>();
const stats = { requests: 0, delivered: 0, repeats: 0, refused: 0 };

async function handle(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): Promise<void> {
  const messageType = /^\/xr\/v1\/messages\/([^/?]+)$/.exec(request.url ?? '')?.[1] ?? '';
  const signature = request.headers['x-xr-signature'];
  const parsed = parseSignatureHeader(Array.isArray(signature) ? signature[0] : signature, ['ES256']);
  if (!isMessageType(messageType) || parsed.header.iss !== '330500' || parsed.header.aud !== config.region) throw new Error('not for us');
  await verifyDetached(parsed, body, huzhouKey);
  const id = String(request.headers['x-xr-idempotency-key'] ?? randomUUID());
  if (answered.has(id)) stats.repeats += 1;
  else {
    answered.add(id);
    stats.delivered += 1;
  }
  const receipt = await receiptFor(messageType);
  const answerSignature = await signDetached(receipt, { iss: config.region, aud: '330500', jti: randomUUID(), irt: parsed.header.jti }, signer, { includeX5c: true });
  response.writeHead(200, { 'content-type': `${format.mediaType}; charset=${format.charset}`, 'content-length': receipt.length, 'x-xr-signature': answerSignature });
  response.end(receipt);
}

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(stats));
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    stats.requests += 1;
    handle(request, Buffer.concat(chunks), response).catch(() => {
      stats.refused += 1;
      response.writeHead(400, { 'content-type': 'text/plain' });
      response.end('refused');
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ bench: 'ready', pids: [process.pid], url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
