/**
 * The gateway's HTTP client (gateway/http/client.ts) against a real server on 127.0.0.1: what it sends, what
 * it returns, and its own three endings — ETIMEDOUT, ERR_ABORTED, ERR_RESPONSE_TOO_LARGE. The timeouts are
 * short real ones on a server that never answers: the tests wait for the outcome, never for a fixed time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpClient } from '../../gateway/http/client.ts';
import { closeServer, listenOnLoopback } from '../support/loopback.ts';

type Handler = (request: http.IncomingMessage, body: Buffer, response: http.ServerResponse) => void;

/** A server whose handler each test sets; it records what arrived and every connection it saw close. */
class TestServer {
  handler: Handler = (_request, _body, response) => response.end();
  readonly received: Array<{ method: string | undefined; url: string | undefined; headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  readonly sockets = new Set<Socket>();
  connections = 0;
  readonly closedConnections = new EventTarget();
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<TestServer> {
    let test!: TestServer;
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        test.received.push({ method: request.method, url: request.url, headers: request.headers, body });
        test.handler(request, body, response);
      });
    });
    server.on('connection', (socket: Socket) => {
      test.connections += 1;
      test.sockets.add(socket);
      socket.on('close', () => {
        test.sockets.delete(socket);
        test.closedConnections.dispatchEvent(new Event('close'));
      });
    });
    test = new TestServer(server);
    await listenOnLoopback(server);
    return test;
  }

  url(pathname = '/xr/v1/messages/application.submit'): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}${pathname}`);
  }

  /** Resolves once every connection to the server has closed. */
  async allClosed(): Promise<void> {
    while (this.sockets.size > 0) await once(this.closedConnections, 'close');
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }
}

describe('the gateway\'s HTTP client (undici, keep-alive)', function () {
  let server: TestServer;
  let client: HttpClient;

  beforeEach(async function () {
    server = await TestServer.start();
    client = new HttpClient({ maxResponseBytes: 1024 });
  });

  afterEach(async function () {
    client.close();
    await server.stop();
  });

  it('POSTs the body with its length and headers, and returns status, headers and body as a Buffer', async function () {
    server.handler = (_request, body, response) => {
      response.writeHead(202, { 'content-type': 'application/json', 'x-xr-signature': 'hdr..sig' }).end(JSON.stringify({ length: body.length }));
    };
    const response = await client.request({
      method: 'POST', url: server.url(), body: Buffer.from('{"applyNo":"1"}'), timeoutMs: 5_000,
      headers: { 'content-type': 'application/json', 'x-xr-idempotency-key': 'k-1' },
    });
    assert.equal(response.statusCode, 202);
    assert.equal(response.headers['x-xr-signature'], 'hdr..sig');
    assert.ok(Buffer.isBuffer(response.body));
    assert.deepEqual(JSON.parse(response.body.toString('utf8')), { length: 15 });
    const [received] = server.received;
    assert.equal(received!.method, 'POST');
    assert.equal(received!.url, '/xr/v1/messages/application.submit');
    assert.equal(received!.headers['content-length'], '15');
    assert.equal(received!.headers['x-xr-idempotency-key'], 'k-1');
    assert.equal(received!.headers['accept-encoding'], undefined, 'answers arrive as signed: no compression asked for');
    assert.equal(received!.body.toString('utf8'), '{"applyNo":"1"}');
  });

  it('sends a URL\'s user and password as Basic credentials, as node:http did', async function () {
    const url = server.url('/backend/messages');
    url.username = 'xr%20gateway';
    url.password = 'p%40ss';
    await client.request({ method: 'POST', url, body: '{}', timeoutMs: 5_000 });
    assert.equal(server.received[0]!.headers.authorization, `Basic ${Buffer.from('xr gateway:p@ss').toString('base64')}`);
    assert.equal(server.received[0]!.url, '/backend/messages');
    await client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 });
    assert.equal(server.received[1]!.headers.authorization, undefined, 'none without them');
  });

  it('returns any status as an answer: a 503 is not thrown, a redirect is not followed', async function () {
    server.handler = (request, _body, response) => {
      if (request.url === '/moved') response.writeHead(302, { location: '/elsewhere', 'content-length': 0 }).end();
      else response.writeHead(503, { 'retry-after': '7' }).end('down');
    };
    const unavailable = await client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 });
    assert.deepEqual([unavailable.statusCode, unavailable.headers['retry-after'], unavailable.body.toString()], [503, '7', 'down']);
    const moved = await client.request({ method: 'GET', url: server.url('/moved'), timeoutMs: 5_000 });
    assert.equal(moved.statusCode, 302);
    assert.equal(server.received.length, 2, 'the redirect was not followed');
  });

  it('keeps the connection alive for the next request', async function () {
    server.handler = (_request, _body, response) => response.end('ok');
    // undici lets a connection rest one turn of the event loop after an answer before reusing it (a server that
    // said keep-alive may still close): a request sent at once opens a second connection, and no more.
    for (let i = 0; i < 10; i += 1) await client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 });
    assert.ok(server.connections <= 2, `${server.connections} connections for 10 requests one after the other`);
    const before = server.connections;
    await new Promise((resolve) => setImmediate(resolve));
    await client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 });
    assert.equal(server.connections, before, 'a connection that has rested is reused');
  });

  it('ends a request without a complete answer within timeoutMs with ETIMEDOUT, and closes its connection', async function () {
    server.handler = () => {};
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 50 }), { name: 'HttpClientError', code: 'ETIMEDOUT' });
    await server.allClosed();
  });

  it('counts the whole answer in the timeout: headers sent, the body never finished, is ETIMEDOUT', async function () {
    server.handler = (_request, _body, response) => {
      response.writeHead(200, { 'content-length': 100 });
      response.write('only part of it');
    };
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 50 }), { code: 'ETIMEDOUT' });
    await server.allClosed();
  });

  it('ends a request whose AbortSignal fires with ERR_ABORTED, and closes its connection', async function () {
    const controller = new AbortController();
    let carried: Socket | undefined;
    server.handler = (request) => {
      carried = request.socket;
      controller.abort();
    };
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000, signal: controller.signal }), { code: 'ERR_ABORTED' });
    // The connection that carried it. (undici 7 then opens one idle connection that its keep-alive timeout
    // closes after 4 s: nodejs/undici#5845. Nothing is sent on it.)
    if (!carried!.destroyed) await once(carried!, 'close');
    assert.equal(server.received.length, 1);
  });

  it('sends nothing when the signal has already fired', async function () {
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000, signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });
    assert.equal(server.connections, 0);
  });

  it('refuses an answer over the size limit, whether declared or as it arrives, with ERR_RESPONSE_TOO_LARGE', async function () {
    server.handler = (_request, _body, response) => response.writeHead(200, { 'content-length': 2048 }).end(Buffer.alloc(2048));
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 }), { code: 'ERR_RESPONSE_TOO_LARGE' });
    server.handler = (_request, _body, response) => {
      // Chunked: no length declared, 3 × 512 bytes.
      response.writeHead(200);
      for (let i = 0; i < 3; i += 1) response.write(Buffer.alloc(512));
      response.end();
    };
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 }), { code: 'ERR_RESPONSE_TOO_LARGE' });
    server.handler = (_request, _body, response) => response.end(Buffer.alloc(1024));
    assert.equal((await client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 })).body.length, 1024, 'exactly the limit is fine');
  });

  it('passes a connection failure on with the socket\'s own code', async function () {
    const url = server.url();
    await server.stop();
    await assert.rejects(client.request({ method: 'POST', url, body: '{}', timeoutMs: 5_000 }), { code: 'ECONNREFUSED' });
    server = await TestServer.start();
  });

  it('reports a connection cut in the middle of the answer as an error, not as a short body', async function () {
    server.handler = (request, _body, response) => {
      response.writeHead(200, { 'content-length': 100 });
      response.write('part', () => request.socket.destroy());
    };
    await assert.rejects(client.request({ method: 'POST', url: server.url(), body: '{}', timeoutMs: 5_000 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ECONNRESET');
      return true;
    });
  });
});
