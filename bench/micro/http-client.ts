/**
 * Micro-benchmark of the HTTP client alone (not part of npm test): `npx tsx bench/micro/http-client.ts`.
 * got (configured as the gateway once used it for partners: keep-alive agents, no retries, no redirects,
 * Buffer bodies), node:http with a keep-alive Agent (the gateway's client before undici, reduced to a POST
 * that reads its answer) and the gateway's own client (gateway/http/client.ts, undici) POST the same 2 KB
 * body to the same loopback server, 20 requests in flight, in alternating rounds. The server runs
 * in a child process, so this process's CPU time is the client's: printed as µs per request, beside req/s.
 *
 * Options: HTTP_MICRO_SECONDS (per round, default 4), HTTP_MICRO_CONCURRENCY (20), HTTP_MICRO_ROUNDS (3).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import got from 'got';
import { HttpClient } from '../../gateway/http/client.ts';

const ANSWER = Buffer.from(JSON.stringify({ applyNo: '3101172026112700001', handleNo: 'H1', status: 'RECEIVED', receivedAt: '2026-11-27T09:00:00+08:00' }));

if (process.argv[2] === 'server') {
  // A partner-like answer: a small JSON body and a header of a signature's size.
  const signature = 'e'.repeat(700);
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': ANSWER.length, 'x-xr-signature': signature });
      response.end(ANSWER);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
} else {
  const seconds = Number(process.env.HTTP_MICRO_SECONDS ?? 4);
  const concurrency = Number(process.env.HTTP_MICRO_CONCURRENCY ?? 20);
  const rounds = Number(process.env.HTTP_MICRO_ROUNDS ?? 3);
  const child = fork(new URL(import.meta.url).pathname, ['server'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const url = new URL(`http://127.0.0.1:${port}/xr/v1/messages/application.submit`);
  const body = Buffer.alloc(2048, 'x');
  const headers = { 'content-type': 'application/json', 'x-xr-signature': 's'.repeat(900), 'x-xr-idempotency-key': '5b0c2f8e-2d3c-4a51-9d5e-1f2a3b4c5d6e' };

  const viaGot = got.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'buffer',
    agent: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  });
  const gateway = new HttpClient();
  const keepAlive = new http.Agent({ keepAlive: true });
  const viaNode = () => new Promise<number>((resolve, reject) => {
    const outgoing = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': body.length }, agent: keepAlive }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve(Buffer.concat(chunks).length));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
  const clients: Record<string, () => Promise<number>> = {
    got: async () => (await viaGot.post(url, { body, headers, timeout: { request: 10_000 } })).body.length,
    'node:http, keep-alive Agent': viaNode,
    'undici (gateway/http/client.ts)': async () => (await gateway.request({ method: 'POST', url, body, headers, timeoutMs: 10_000 })).body.length,
  };

  /** `concurrency` loops, each sending one request after the other until the time is up. */
  async function run(send: () => Promise<number>, durationS: number): Promise<{ perS: number; cpuUsPerRequest: number }> {
    let requests = 0;
    const deadline = performance.now() + durationS * 1000;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        if ((await send()) !== ANSWER.length) throw new Error('unexpected answer');
        requests += 1;
      }
    }));
    const elapsedS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { perS: requests / elapsedS, cpuUsPerRequest: (cpu.user + cpu.system) / requests };
  }

  process.stdout.write(`POST ${body.length} B, answer ${ANSWER.length} B, ${concurrency} in flight, loopback, ${seconds} s per round, Node ${process.version}\n`);
  for (const send of Object.values(clients)) await run(send, 1);
  for (let round = 1; round <= rounds; round += 1) {
    for (const [name, send] of Object.entries(clients)) {
      const { perS, cpuUsPerRequest } = await run(send, seconds);
      process.stdout.write(`round ${round}  ${name.padEnd(36)} ${Math.round(perS).toLocaleString('en-US').padStart(7)} req/s  ${cpuUsPerRequest.toFixed(0).padStart(5)} µs client CPU per request\n`);
    }
  }
  gateway.close();
  keepAlive.destroy();
  child.kill();
}
