/**
 * Huzhou's local backend for the benchmark, answering every message as test/support/backend.ts's
 * defaultReply does:
 *  - in memory (the gateway's `backend` option): no HTTP hop, so the figures are the gateway's own;
 *  - over HTTP, for a gateway that cannot take an injected backend (its cluster workers today): a lean
 *    node:http server that keeps nothing (the test backend records every call, which would grow).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CanonicalDocument } from '../../adapters/canonical.ts';
import type { BackendAnswer, LocalBackend } from '../../gateway/backend/local-backend.ts';
import { defaultReply } from '../../test/support/backend.ts';

function answerTo(messageType: string, body: Record<string, unknown>): BackendAnswer {
  const reply = defaultReply({ messageType, headers: {}, body });
  return { status: reply.status === 202 ? 202 : 200, body: reply.body as CanonicalDocument };
}

export function inMemoryBackend(): LocalBackend {
  return {
    async forward(messageType, body) {
      return answerTo(messageType, body as Record<string, unknown>);
    },
  };
}

export async function startHttpBackend(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const answer = answerTo((request.url ?? '/').slice(1), body);
      const bytes = Buffer.from(JSON.stringify(answer.body));
      response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': bytes.length });
      response.end(bytes);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
