/** The forward to Huzhou's local backend (PROTOCOL §4, gateway/backend/local-backend.ts) against a real server on 127.0.0.1. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { httpLocalBackend } from '../../gateway/backend/local-backend.ts';
import { isXrError } from '../../gateway/protocol/errors.ts';
import { closeServer, listenOnLoopback } from '../support/loopback.ts';

const SOURCE = { region: '320500', messageId: 'm-1' };

describe('the local backend client (PROTOCOL §4)', function () {
  let server: http.Server;
  let base: string;
  let answer: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  const received: Array<{ url: string | undefined; headers: http.IncomingHttpHeaders; body: string }> = [];

  before(async function () {
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      request.on('end', () => {
        received.push({ url: request.url, headers: request.headers, body });
        answer(request, response);
      });
    });
    base = `http://127.0.0.1:${await listenOnLoopback(server)}`;
  });

  beforeEach(function () {
    received.length = 0;
    answer = (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"applyNo":"1","handleNo":"H1"}');
  });

  after(async function () {
    await closeServer(server);
  });

  const refusal = (code: string, detail: RegExp) => (error: unknown) => {
    assert.ok(isXrError(error), String(error));
    assert.equal(error.code, code);
    assert.match(error.detail, detail);
    return true;
  };

  it('POSTs the canonical JSON to the base URL\'s path + the message type, with the source headers', async function () {
    for (const prefix of ['/backend', '/backend/']) {
      const answered = await httpLocalBackend(`${base}${prefix}`, 5_000).forward('application.submit', { applyNo: '1' }, SOURCE);
      assert.deepEqual(answered, { status: 200, body: { applyNo: '1', handleNo: 'H1' } });
    }
    assert.deepEqual(received.map((r) => r.url), ['/backend/application.submit', '/backend/application.submit']);
    assert.equal(received[0]!.headers['x-xr-source-region'], '320500');
    assert.equal(received[0]!.headers['x-xr-message-id'], 'm-1');
    assert.equal(received[0]!.headers['content-type'], 'application/json');
    assert.equal(received[0]!.body, '{"applyNo":"1"}');
  });

  it('answers XR_UPSTREAM_TIMEOUT when the backend does not answer within the timeout', async function () {
    answer = () => {};
    await assert.rejects(httpLocalBackend(base, 50).forward('application.status', {}, SOURCE), refusal('XR_UPSTREAM_TIMEOUT', /within 50 ms/));
  });

  it('answers XR_UPSTREAM for an answer larger than any canonical answer may be', async function () {
    answer = (_request, response) => response.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 * 1024 * 1024 }).end();
    await assert.rejects(httpLocalBackend(base, 5_000).forward('application.status', {}, SOURCE), refusal('XR_UPSTREAM', /too large/));
  });

  it('answers XR_UPSTREAM naming the network error when the backend cannot be reached', async function () {
    const closed = http.createServer();
    const url = `http://127.0.0.1:${await listenOnLoopback(closed)}`;
    await closeServer(closed);
    await assert.rejects(httpLocalBackend(url, 5_000).forward('application.status', {}, SOURCE), refusal('XR_UPSTREAM', /could not be reached \(ECONNREFUSED\)/));
  });
});
