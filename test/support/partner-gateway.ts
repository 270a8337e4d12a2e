/**
 * A simulated partner city's gateway on 127.0.0.1, receiving what Huzhou sends out (PROTOCOL §6). It checks
 * every request as a partner would — Huzhou's signature with nothing but Huzhou's published certificate
 * (GET /admin/v1/identity), aud, htm, htu, iat, a fresh jti — records the message, drops a copy that
 * carries an X-XR-Idempotency-Key it has seen (counting it, answering the first answer again), and answers
 * in its own format, signed by its own PKI with irt = the request's jti. Tests set `behaviour` to make it
 * misbehave, and wait on its events, never on sleeps.
 */
import { EventEmitter, once } from 'node:events';
import { X509Certificate, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { flattenedVerify } from 'jose';
import { FormatRegistry, type PartnerFormat } from '../../adapters/index.ts';
import { signDetached } from '../../certs/jws.ts';
import { kidOf } from '../../certs/thumbprint.ts';
import { isMessageType, type MessageType } from '../../gateway/protocol/messages.ts';
import { defaultReply } from './backend.ts';
import { makePartnerPki, type PartnerPki } from './pki.ts';

export type PartnerBehaviour =
  /** Check, record, answer with a signed receipt. */
  | { kind: 'answer' }
  /** Answer this status with a problem document (signed unless `signed: false`), recording nothing. */
  | { kind: 'status'; status: number; code?: string; detail?: string; retryAfter?: string; signed?: boolean }
  /** Never answer, record nothing. */
  | { kind: 'hang' }
  /** Record the message, never answer: the partner has it, Huzhou never hears so. */
  | { kind: 'accept-then-hang' }
  /** Record the message and answer, with a signature that does not verify. */
  | { kind: 'bad-signature' }
  /** Record the message and answer, without any signature. */
  | { kind: 'unsigned' }
  /** Record the message and answer an XML receipt re-encoded as UTF-8 without its declaration, labelled charset=UTF-8. */
  | { kind: 'answer-utf8' }
  /** Cut the connection as soon as the request is in. */
  | { kind: 'reset' };

export interface ReceivedRequest {
  messageType: string;
  idempotencyKey: string | undefined;
  jti: string | undefined;
  /** Why Huzhou's signature was not accepted; undefined when it was. */
  refusal: string | undefined;
  body: Buffer;
}

export interface AcceptedMessage {
  idempotencyKey: string;
  messageType: MessageType;
  /** The bytes received, in this partner's format. */
  body: Buffer;
  canonical: Record<string, unknown>;
  answer: { status: number; body: Buffer };
  duplicates: number;
}

const HUZHOU = '330500';
const MAX_SKEW_SECONDS = 300;

export class PartnerGateway extends EventEmitter<{ request: [ReceivedRequest]; accepted: [AcceptedMessage]; duplicate: [AcceptedMessage] }> {
  behaviour: PartnerBehaviour = { kind: 'answer' };
  readonly requests: ReceivedRequest[] = [];
  readonly messages = new Map<string, AcceptedMessage>();
  duplicates = 0;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #seenJtis = new Set<string>();
  #port = 0;

  private constructor(
    readonly region: string,
    readonly format: PartnerFormat,
    readonly pki: PartnerPki,
    private readonly huzhouKey: KeyObject,
    private readonly huzhouKid: string,
  ) {
    super();
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.#handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        });
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** @param huzhouAdminUrl where Huzhou publishes its identity (GET /admin/v1/identity). */
  static async start(options: { region: string; format: string; huzhouAdminUrl: string; pki?: PartnerPki }): Promise<PartnerGateway> {
    const format = FormatRegistry.withShippedFormats().get(options.format);
    if (!format) throw new Error(`no format ${options.format}`);
    const identity = await (await fetch(`${options.huzhouAdminUrl}/admin/v1/identity`)).json() as { chain: string[] };
    const leaf = new X509Certificate(identity.chain[0]!);
    const huzhouKey = createPublicKey(leaf.publicKey.export({ format: 'pem', type: 'spki' }));
    const gateway = new PartnerGateway(options.region, format, options.pki ?? await makePartnerPki(options.region), huzhouKey, kidOf(leaf));
    await gateway.up();
    return gateway;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Accepted messages (duplicates dropped). */
  get accepted(): AcceptedMessage[] {
    return [...this.messages.values()];
  }

  /** Listens again, on the same port once it has one. */
  async up(): Promise<void> {
    this.#server.listen(this.#port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** The port closes and every connection is cut: connections are refused until up(). */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** Cuts the connections of requests left hanging. */
  releaseHanging(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    if (this.#server.listening) await this.down();
  }

  /** Waits until `count` distinct messages have been accepted. */
  async acceptedCount(count: number): Promise<void> {
    while (this.messages.size < count) await once(this, 'accepted');
  }

  /** Waits until `count` requests have arrived (accepted or not). */
  async requestCount(count: number): Promise<void> {
    while (this.requests.length < count) await once(this, 'request');
  }

  /** Huzhou's request checked as PROTOCOL §2 says; the reason for refusing it, or undefined. */
  async #refusalOf(req: http.IncomingMessage, body: Buffer, signature: string | undefined): Promise<{ refusal?: string; jti?: string }> {
    if (!signature) return { refusal: 'no signature' };
    const [protectedB64, empty, signatureB64] = signature.split('.');
    if (empty !== '' || !protectedB64 || !signatureB64) return { refusal: 'not a detached JWS' };
    const header = JSON.parse(Buffer.from(protectedB64, 'base64url').toString('utf8')) as Record<string, unknown>;
    const jti = typeof header.jti === 'string' ? header.jti : undefined;
    try {
      await flattenedVerify({ protected: protectedB64, payload: body, signature: signatureB64 }, this.huzhouKey, { algorithms: ['ES256', 'PS256', 'RS256', 'EdDSA'], crit: { b64: true } });
    } catch {
      return { refusal: 'signature does not verify with Huzhou\'s certificate', jti };
    }
    const now = Math.floor(Date.now() / 1000);
    const problems = [
      header.typ !== 'xr+jws' && 'typ',
      header.b64 !== false && 'b64',
      header.kid !== this.huzhouKid && 'kid',
      header.iss !== HUZHOU && 'iss',
      header.aud !== this.region && 'aud',
      header.htm !== 'POST' && 'htm',
      header.htu !== req.url && 'htu',
      (typeof header.iat !== 'number' || Math.abs(now - header.iat) > MAX_SKEW_SECONDS) && 'iat',
      (jti === undefined || this.#seenJtis.has(jti)) && 'jti (missing or replayed)',
    ].filter(Boolean);
    if (jti !== undefined) this.#seenJtis.add(jti);
    return problems.length > 0 ? { refusal: `wrong ${problems.join(', ')}`, jti } : { jti };
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const messageType = (req.url ?? '').replace(/^\/xr\/v1\/messages\//, '');
    const signature = req.headers['x-xr-signature'] as string | undefined;
    const idempotencyKey = req.headers['x-xr-idempotency-key'] as string | undefined;
    const { refusal, jti } = await this.#refusalOf(req, body, signature);
    const request: ReceivedRequest = { messageType, idempotencyKey, jti, refusal, body };
    this.requests.push(request);
    this.emit('request', request);
    const behaviour = this.behaviour;

    if (behaviour.kind === 'reset') return void req.socket.destroy();
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'status') {
      const problem = { type: `urn:xr:error:${behaviour.code ?? 'XR_UPSTREAM'}`, title: 'refused', status: behaviour.status, code: behaviour.code ?? 'XR_UPSTREAM', detail: behaviour.detail ?? 'simulated', ...(jti ? { jti } : {}) };
      const answer = Buffer.from(JSON.stringify(problem));
      const signed = behaviour.signed === false ? undefined : await this.#sign(answer, jti);
      return this.#send(res, behaviour.status, 'application/problem+json', answer, signed, behaviour.retryAfter);
    }
    if (refusal !== undefined || !isMessageType(messageType) || idempotencyKey === undefined) {
      const problem = { type: 'urn:xr:error:XR_SIGNATURE_INVALID', title: 'refused', status: 401, code: 'XR_SIGNATURE_INVALID', detail: refusal ?? 'not an XR/1 message with an idempotency key' };
      const answer = Buffer.from(JSON.stringify(problem));
      return this.#send(res, 401, 'application/problem+json', answer, await this.#sign(answer, jti));
    }

    let message = this.messages.get(idempotencyKey);
    if (message) {
      message.duplicates += 1;
      this.duplicates += 1;
      this.emit('duplicate', message);
    } else {
      const canonical = await this.format.toCanonical(messageType, 'request', body) as Record<string, unknown>;
      const reply = defaultReply({ messageType, headers: req.headers, body: canonical });
      const answer = await this.format.fromCanonical(messageType, 'response', reply.body as Record<string, unknown>);
      message = { idempotencyKey, messageType, body, canonical, answer: { status: reply.status, body: answer }, duplicates: 0 };
      this.messages.set(idempotencyKey, message);
      this.emit('accepted', message);
    }
    if (behaviour.kind === 'accept-then-hang') return;
    const contentType = `${this.format.mediaType}; charset=${this.format.charset}`;
    const { status, body: answer } = message.answer;
    if (behaviour.kind === 'unsigned') return this.#send(res, status, contentType, answer, undefined);
    if (behaviour.kind === 'answer-utf8') {
      const utf8 = Buffer.from(new TextDecoder(this.format.charset).decode(answer).replace(/^<\?xml[^>]*\?>\s*/, ''), 'utf8');
      return this.#send(res, status, `${this.format.mediaType}; charset=UTF-8`, utf8, await this.#sign(utf8, jti));
    }
    // A bad signature: well formed and by the right key, but over other bytes than the answer.
    const signedBytes = behaviour.kind === 'bad-signature' ? Buffer.from('something else') : answer;
    this.#send(res, status, contentType, answer, await this.#sign(signedBytes, jti));
  }

  #sign(body: Buffer, irt: string | undefined): Promise<string> {
    // x5c: Huzhou has the partner's CA as trust anchor, not this signer certificate.
    return signDetached(body, { iss: this.region, aud: HUZHOU, jti: randomUUID(), ...(irt === undefined ? {} : { irt }) }, this.pki.signer, { includeX5c: true });
  }

  #send(res: http.ServerResponse, status: number, contentType: string, body: Buffer, signature: string | undefined, retryAfter?: string): void {
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': body.length,
      ...(signature === undefined ? {} : { 'x-xr-signature': signature }),
      ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
    });
    res.end(body);
  }
}
