/**
 * Request bodies at the edges, on all three listeners: a chunked body over the limit (no Content-Length to
 * refuse up front) is refused with 413 XR_TOO_LARGE, and the connection still ends when the client ends it —
 * a request stream left destroyed with the client's bytes unread kept the socket open for good, and the
 * gateway could not stop. And the local listener's JSON: UTF-8 only, no key given twice.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SimulatedBackend } from '../support/backend.ts';
import { ADMIN_TOKEN, LOCAL_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const SUBMIT = readFileSync(path.join(FIXTURES, 'sh-json/application.submit.request.canonical.json'), 'utf8');
const MAX_BODY_BYTES = 64 * 1024;

interface RawExchange {
  /** The whole response as received (latin1). */
  response: string;
  /** Resolves when the server has closed the connection. */
  closed: Promise<unknown>;
  socket: net.Socket;
}

/** A chunked request of `total` bytes, written as fast as the server takes them; resolves once a whole answer is in. */
async function chunkedSend(method: string, url: string, pathname: string, headers: Record<string, string>, total: number): Promise<RawExchange> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => {}); // a reset after the answer is the server's right; the answer is what is checked
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  let response = '';
  const answered = new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      response += data.toString('latin1');
      const head = response.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(response)?.[1];
      if (head >= 0 && length !== undefined && Buffer.byteLength(response.slice(head + 4), 'latin1') >= Number(length)) resolve();
    });
  });
  const lines = Object.entries({ host: '127.0.0.1', 'transfer-encoding': 'chunked', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(`${method} ${pathname} HTTP/1.1\r\n${lines.join('')}\r\n`);
  const chunk = Buffer.alloc(16 * 1024, 0x20);
  for (let sent = 0; sent < total && !socket.destroyed; sent += chunk.length) {
    const flushed = socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    if (!flushed) await Promise.race([once(socket, 'drain'), closed]);
  }
  if (!socket.destroyed) socket.write('0\r\n\r\n');
  await Promise.race([answered, closed]);
  return { response, closed, socket };
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

describe('request bodies: over the limit without a length, and the local listener\'s JSON', function () {
  let backend: SimulatedBackend;
  let harness: TestGateway;

  before(async function () {
    backend = await SimulatedBackend.start();
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url, XR_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  });

  after(async function () {
    // With a connection left open, close() never ended: the hook's timeout would fail the suite here.
    await harness.stop();
    await backend.stop();
  });

  const listeners = (): Array<{ name: string; method: string; url: string; path: string; headers: Record<string, string>; total: number }> => [
    { name: 'partner', method: 'POST', url: harness.gateway.urls.partner, path: '/xr/v1/messages/application.submit', headers: { 'content-type': 'application/json' }, total: 4 * MAX_BODY_BYTES },
    { name: 'local', method: 'POST', url: harness.gateway.urls.local, path: '/local/v1/messages/application.submit', headers: { authorization: `Bearer ${LOCAL_TOKEN}`, 'content-type': 'application/json' }, total: 4 * MAX_BODY_BYTES },
    // The admin listener's bodies are capped at 1 MiB whatever XR_MAX_BODY_BYTES says.
    { name: 'admin', method: 'PUT', url: harness.gateway.urls.admin, path: '/admin/v1/partners/310117', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, total: 3 * 1024 * 1024 },
  ];

  for (const name of ['partner', 'local', 'admin']) {
    it(`refuses a chunked body over the limit on the ${name} listener with 413, and lets the connection end`, async function () {
      this.timeout(15_000);
      const listener = listeners().find((l) => l.name === name)!;
      const socket = await (async () => {
        const exchange = await chunkedSend(listener.method, listener.url, listener.path, listener.headers, listener.total);
        assert.equal(statusOf(exchange.response), 413, exchange.response.slice(0, 200));
        assert.match(exchange.response, /"code":"XR_TOO_LARGE"/);
        assert.match(exchange.response, /content-type: application\/problem\+json/i);
        return exchange;
      })();
      // The client is done: the server must see it and close its side (it did not, its reading stopped for good).
      socket.socket.end();
      await socket.closed;
    });
  }

  it('changed nothing for the refused bodies: no forward, nothing queued, no partner', async function () {
    assert.equal(backend.calls.length, 0);
    const counts = await harness.gateway.store.outboxCounts();
    assert.equal(Object.values(counts).reduce((sum, n) => sum + n, 0), 0);
    assert.equal((await harness.admin('GET', '/admin/v1/partners/310117')).status, 404);
  });

  async function postLocal(body: Buffer | string, contentType = 'application/json'): Promise<Response> {
    return fetch(`${harness.gateway.urls.local}/local/v1/messages/application.submit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_TOKEN}`, 'content-type': contentType, 'x-xr-target-region': '310117' },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
  }

  async function refusal(response: Response): Promise<{ status: number; code: string; detail: string }> {
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    const problem = await response.json() as { code: string; detail: string };
    return { status: response.status, code: problem.code, detail: problem.detail };
  }

  it('refuses local JSON labelled with a charset other than UTF-8 (415), bytes that are not UTF-8 and keys given twice (400)', async function () {
    const latin1 = await refusal(await postLocal(SUBMIT, 'application/json; charset=iso-8859-1'));
    assert.deepEqual([latin1.status, latin1.code], [415, 'XR_UNSUPPORTED_MEDIA']);
    const notUtf8 = await refusal(await postLocal(Buffer.concat([Buffer.from(SUBMIT.slice(0, -1)), Buffer.from(',"x":"\xff"}', 'latin1')])));
    assert.deepEqual([notUtf8.status, notUtf8.code], [400, 'XR_MALFORMED']);
    assert.match(notUtf8.detail, /not UTF-8/);
    const twice = await refusal(await postLocal(`${SUBMIT.trimEnd().slice(0, -1)},"applyNo":"3301172026112700009"}`));
    assert.deepEqual([twice.status, twice.code], [400, 'XR_MALFORMED']);
    assert.match(twice.detail, /same key twice/);
    const counts = await harness.gateway.store.outboxCounts();
    assert.equal(Object.values(counts).reduce((sum, n) => sum + n, 0), 0, 'nothing queued');
  });

  it('takes local JSON labelled charset=UTF-8 (any case) and JSON that begins with a byte order mark', async function () {
    // No partner 310117 is registered here: getting as far as the target proves the body was read.
    for (const [body, type] of [[SUBMIT, 'application/json; charset=UTF-8'], [`\ufeff${SUBMIT}`, 'application/json']] as const) {
      const answer = await refusal(await postLocal(body, type));
      assert.equal(answer.code, 'XR_PARTNER_UNKNOWN', answer.detail);
    }
  });
});
