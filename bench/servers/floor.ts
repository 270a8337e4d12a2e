/**
 * The crypto floor: a bare Koa server that does exactly what every signed exchange must — parse the
 * X-XR-Signature header, read the raw body, one ES256 verify over the body and one ES256 sign of a small answer —
 * with the same certs/jws.ts primitives the gateway uses, and nothing else (no trust chain, no replay cache,
 * no translation, no log). The gateway's throughput is reported as a fraction of this one's.
 *
 * The senders' public keys come from their certificates (BENCH_FLOOR_CERTS: a JSON file of PEMs), one
 * stable KeyObject per certificate as the gateway's trust store keeps them (certs/jws.ts on why it matters).
 * BENCH_FLOOR_WORKERS > 1 forks that many processes sharing the port, to compare with XR_WORKERS. The
 * signatures are placed as the gateway places them for as many processes (certs/signature.ts): on libuv's
 * thread pool with fewer processes than cores, inline with one per core.
 */
import cluster from 'node:cluster';
import { X509Certificate, randomUUID, type KeyObject } from 'node:crypto';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import Koa from 'koa';
import { parseSignatureHeader, signDetached, signingInputPrefix, verifyDetached } from '../../certs/jws.ts';
import { signaturePlacement } from '../../certs/signature.ts';
import { kidOf } from '../../certs/thumbprint.ts';
import { readBodyAfter } from '../../gateway/http/raw-body.ts';
import { makePartnerPki } from '../../test/support/pki.ts';

const port = Number(process.env.BENCH_PORT);
const workers = Number(process.env.BENCH_FLOOR_WORKERS ?? '1');
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const placement = signaturePlacement(workers, os.availableParallelism());

async function serve(): Promise<void> {
  const keys = new Map<string, KeyObject>();
  for (const pem of JSON.parse(readFileSync(process.env.BENCH_FLOOR_CERTS!, 'utf8')) as string[]) {
    const cert = new X509Certificate(pem);
    keys.set(kidOf(cert), cert.publicKey);
  }
  const { signer } = await makePartnerPki('330500');

  const app = new Koa();
  app.use(async (ctx) => {
    const parsed = parseSignatureHeader(ctx.get('x-xr-signature') || undefined, ['ES256']);
    // Read into its signing input, as the gateway's partner listener does.
    const signed = await readBodyAfter(ctx.req, MAX_BODY_BYTES, signingInputPrefix(parsed));
    const key = keys.get(parsed.header.kid);
    if (!key) throw new Error(`unknown kid ${parsed.header.kid}`);
    await verifyDetached(parsed, signed, key, placement);
    // About the size of the gateway's signed receipt.
    const answer = Buffer.from(JSON.stringify({
      applyNo: parsed.header.jti, handleNo: 'HZ0000000000', status: 'RECEIVED', receivedAt: '2026-11-27T09:31:00+08:00', message: '已接收，待受理',
    }));
    ctx.set('x-xr-signature', await signDetached(answer, { iss: '330500', aud: parsed.header.iss, jti: randomUUID(), irt: parsed.header.jti }, signer, { placement }));
    ctx.type = 'application/json';
    ctx.body = answer;
  });
  await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', resolve));
}

if (cluster.isPrimary && workers > 1) {
  const forked = Array.from({ length: workers }, () => cluster.fork());
  let ready = 0;
  for (const worker of forked) {
    worker.on('listening', () => {
      ready += 1;
      if (ready === workers) {
        process.stdout.write(`${JSON.stringify({ bench: 'ready', pids: [process.pid, ...forked.map((w) => w.process.pid!)] })}\n`);
      }
    });
  }
  process.once('SIGTERM', () => {
    for (const worker of forked) worker.kill('SIGTERM');
    process.exit(0);
  });
} else {
  await serve();
  if (cluster.isPrimary) process.stdout.write(`${JSON.stringify({ bench: 'ready', pids: [process.pid] })}\n`);
  process.once('SIGTERM', () => process.exit(0));
}
