/**
 * A simulated Huzhou local backend (PROTOCOL §4) on 127.0.0.1: records every call and answers with what the
 * test asks for. Tests wait on its events, never on sleeps.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listenOnLoopback } from './loopback.ts';

export interface BackendCall {
  messageType: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface BackendReply {
  status: number;
  body: unknown;
  /** Never answer (the gateway's timeout is what the test watches). */
  hang?: boolean;
}

export type BackendBehaviour = (call: BackendCall) => BackendReply;

/** The canonical answer a real backend would give to each message type. */
export function defaultReply(call: BackendCall): BackendReply {
  const applyNo = String(call.body.applyNo ?? '');
  switch (call.messageType) {
    case 'application.submit':
      return { status: 200, body: { applyNo, handleNo: `HZ${applyNo.slice(-10)}`, status: 'RECEIVED', receivedAt: '2026-11-27T09:31:00+08:00', message: '已接收，待受理' } };
    case 'application.status':
      return { status: 200, body: { applyNo, message: '已收到' } };
    case 'licence.verify':
      return { status: 200, body: { verifyNo: call.body.verifyNo, licenceNo: call.body.licenceNo, valid: true, licenceName: '食品经营许可证', validUntil: '2031-11-26', message: '证照有效' } };
    default:
      return { status: 202, body: { applyNo, message: '评价已收到' } };
  }
}

export class SimulatedBackend extends EventEmitter {
  readonly calls: BackendCall[] = [];
  behaviour: BackendBehaviour = defaultReply;
  private readonly server: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();

  private constructor() {
    super();
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const call: BackendCall = {
          messageType: (req.url ?? '').replace(/^\//, ''),
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        };
        this.calls.push(call);
        const reply = this.behaviour(call);
        this.emit('call', call);
        if (reply.hang) {
          this.hanging.add(res);
          return;
        }
        const body = Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
        res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      });
    });
  }

  static async start(): Promise<SimulatedBackend> {
    const backend = new SimulatedBackend();
    await listenOnLoopback(backend.server);
    return backend;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await closeServer(this.server);
  }
}
