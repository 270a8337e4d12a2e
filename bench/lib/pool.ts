/**
 * Signed partner requests, made just before a run and used once each. Every XR/1 request needs its own jti
 * (the gateway refuses a second one as XR_REPLAY) and an iat within 300 s of the gateway's clock, so they
 * cannot be made once for all runs; signing them during the run would take CPU from the server under test
 * on this 2-core machine. A pool is bounded: when it runs dry the run stops (and says so) rather than send a
 * jti twice.
 */
import type { Signer } from '../../certs/jws.ts';
import { requestHeader, signRaw } from '../../test/support/partner-client.ts';

export interface Sender {
  region: string;
  signer: Signer;
  body: Buffer;
  contentType: string;
}

export interface SignedRequest {
  sender: Sender;
  signature: string;
}

export const MESSAGE_PATH = '/xr/v1/messages/application.submit';

/** Round-robin over the senders, `count` requests, each with a fresh jti, the signer's chain in x5c. */
export function signRequests(senders: readonly Sender[], count: number): SignedRequest[] {
  const requests: SignedRequest[] = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const sender = senders[i % senders.length]!;
    const header = requestHeader(sender.signer, { iss: sender.region, messageType: 'application.submit' });
    requests[i] = { sender, signature: signRaw(header, sender.body, sender.signer.privateKey, sender.signer.alg) };
  }
  return requests;
}

export class RequestPool {
  #next = 0;
  constructor(private readonly requests: readonly SignedRequest[]) {}

  /** The next unused request; undefined once all were taken. */
  take(): SignedRequest | undefined {
    return this.#next < this.requests.length ? this.requests[this.#next++] : undefined;
  }

  get taken(): number {
    return this.#next;
  }

  get size(): number {
    return this.requests.length;
  }
}
