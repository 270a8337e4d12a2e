/**
 * Huzhou's signing keys through their life (PROTOCOL §2 signatures; docs/operations-keys.md):
 *
 *   generate  → pending   a new key and a CSR for Huzhou's CA
 *   install   → ready     the certificate the CA issued (must be for that key); published as upcoming
 *   import    → ready     key and chain from a PKCS #12 bundle instead
 *   activate  → active    it signs from now on; the previous key is retiring until the overlap ends,
 *                         still published next to it and able to be activated again (a rollback)
 *   (overlap ends) → retired   its private key destroyed
 *
 * One implementation for the admin API (gateway/admin/key-routes.ts) and the CLI (gateway/cli/). Refusals
 * are XrErrors (XR_BAD_REQUEST, XR_NOT_FOUND) whose detail names keys by id, never their content.
 */
import { randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { algorithmForKey } from '../../certs/algorithms.ts';
import { createCertificateRequest, publicKeyOfRequest, readSubject } from '../../certs/csr.ts';
import { createDevelopmentPki, signerFromKey } from '../../certs/dev-pki.ts';
import { generateKeyPair } from '../../certs/issue.ts';
import type { Signer } from '../../certs/jws.ts';
import { readKeyUsage } from '../../certs/key-usage.ts';
import { parseCertificateBundle } from '../../certs/pem.ts';
import { readPkcs12 } from '../../certs/pkcs12.ts';
import { kidOf } from '../../certs/thumbprint.ts';
import { XrError } from '../protocol/errors.ts';
import type { SignatureAlgorithm } from '../protocol/messages.ts';
import type { ManagedKeyRecord, Store } from '../store/store.ts';
import { DAY_MS, type KeyContext } from './key-context.ts';
import { effectiveState, viewOf, type SigningKeyView } from './key-view.ts';
import { isSealed, openPrivateKey, sealPrivateKey } from './sealing.ts';

/** The algorithms Huzhou may generate keys for; RSA keys sign PS256 (certs/algorithms.ts). */
export const KEY_ALGORITHMS = ['ES256', 'PS256', 'EdDSA'] as const satisfies readonly SignatureAlgorithm[];
export const DEFAULT_OVERLAP_DAYS = 14;
export const MAX_OVERLAP_DAYS = 365;

export interface ActivateOptions {
  /** How long the previous certificate stays published (and can be activated again); 0 retires it at once. */
  overlapDays?: number;
  /**
   * The new certificate does not chain to the CA of the active one: partners that registered only that
   * CA would refuse answers signed with it. Set only once they have registered the new CA.
   */
  acceptNewAnchor?: boolean;
}

export interface Activation {
  active: SigningKeyView;
  /** The key that signed until now, retiring (or retired with overlapDays 0); absent on a first activation. */
  previous?: SigningKeyView;
}

const bad = (detail: string) => new XrError('XR_BAD_REQUEST', detail);

/** Key operations on one Store run one after another: each reads the keys, decides, and saves. */
const queues = new WeakMap<Store, Promise<unknown>>();
function serialised<T>(store: Store, operation: () => Promise<T>): Promise<T> {
  const previous = queues.get(store) ?? Promise.resolve();
  const next = previous.then(operation, operation);
  queues.set(store, next.catch(() => undefined));
  return next;
}

function newKeyId(): string {
  return randomBytes(6).toString('hex');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function keyName(record: ManagedKeyRecord): string {
  return `signing key ${record.id}`;
}

async function findKey(store: Store, ref: string): Promise<{ record: ManagedKeyRecord; all: ManagedKeyRecord[] }> {
  const all = await store.listSigningKeys();
  const record = all.find((key) => key.id === ref) ?? all.find((key) => key.kid === ref);
  if (record === undefined) throw new XrError('XR_NOT_FOUND', `no signing key ${ref.slice(0, 64)}`);
  return { record, all };
}

/** The signer of a stored key: decrypted, matched against its certificate, the chain in order. */
function signerOfRecord(context: KeyContext, record: ManagedKeyRecord): Signer {
  const name = keyName(record);
  return signerFromKey(openPrivateKey(record.privateKeyPem, context.passphrase, name), record.chainPem, {
    key: name, certificate: `the certificate of ${name}`, chain: `the chain of ${name}`,
  });
}

/**
 * What a partner relies on in a certificate Huzhou signs with: in its validity period, an end entity
 * with digitalSignature (when key usage is present), its key one XR/1 can sign with, and a chain in which
 * each certificate issued the one before.
 */
function checkSigningChain(chain: X509Certificate[], nowMs: number): void {
  const [leaf] = chain;
  if (leaf === undefined) throw bad('no certificate given');
  if (leaf.ca) throw bad('the first certificate is a CA certificate; give the signing certificate first, then its chain');
  const usage = readKeyUsage(leaf.raw);
  if (usage !== undefined && !usage.digitalSignature) throw bad('the certificate lacks the digitalSignature key usage XR/1 signing needs');
  if (algorithmForKey(leaf.publicKey) === undefined) throw bad('the certificate\'s key is not EC P-256, RSA ≥ 2048 or Ed25519');
  if (Date.parse(leaf.validTo) <= nowMs) throw bad(`the certificate expired on ${new Date(leaf.validTo).toISOString()}`);
  chain.slice(1).forEach((issuer, index) => {
    const child = chain[index]!;
    if (!(child.checkIssued(issuer) && child.verify(issuer.publicKey))) {
      throw bad(`the chain is out of order: certificate #${index + 2} did not issue #${index + 1}`);
    }
  });
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

function refuseDuplicate(all: ManagedKeyRecord[], kid: string, except?: string): void {
  const twin = all.find((key) => key.kid === kid && key.id !== except);
  if (twin !== undefined) throw bad(`this certificate is already stored as signing key ${twin.id}`);
}

/** The self-signed certificate at the top of a chain, or its last certificate when the root is not included. */
function topOf(chainPem: readonly string[]): X509Certificate | undefined {
  const last = chainPem.at(-1);
  return last === undefined ? undefined : new X509Certificate(last);
}

/** Whether a partner that registered the CA of `current` also accepts `next` (PROTOCOL §2: kid + x5c → anchor). */
function chainsToSameAnchor(next: readonly string[], current: readonly string[]): boolean {
  const anchor = topOf(current);
  if (anchor === undefined) return false;
  const nextCerts = next.map((pem) => new X509Certificate(pem));
  const top = nextCerts.at(-1)!;
  return nextCerts.some((cert) => kidOf(cert) === kidOf(anchor)) || (top.checkIssued(anchor) && top.verify(anchor.publicKey));
}

export async function listSigningKeys(context: KeyContext): Promise<SigningKeyView[]> {
  const now = context.nowMs();
  return (await context.store.listSigningKeys()).map((record) => viewOf(record, now));
}

/** A new key (sealed at rest) and a CSR for it; the key waits, pending, for its certificate. */
export async function generateSigningKey(context: KeyContext, request: { subject: string; alg?: string }): Promise<{ key: SigningKeyView; csrPem: string }> {
  const alg = request.alg ?? 'ES256';
  if (!(KEY_ALGORITHMS as readonly string[]).includes(alg)) throw bad(`alg: one of ${KEY_ALGORITHMS.join(', ')}`);
  const subject = readSubject(request.subject);
  return serialised(context.store, async () => {
    const keys = await generateKeyPair(alg as SignatureAlgorithm);
    const csrPem = await createCertificateRequest(keys, subject);
    const now = context.nowMs();
    const record: ManagedKeyRecord = {
      id: newKeyId(), state: 'pending', kid: null, subject, privateKeyPem: sealPrivateKey(keys.privateKey, context.passphrase),
      csrPem, chainPem: [], createdAt: iso(now), activatedAt: null, overlapEndsAt: null,
    };
    await context.store.saveSigningKeys([record]);
    return { key: viewOf(record, now), csrPem };
  });
}

/** Installs the certificate the CA issued for a pending key (or replaces that of a ready one): it must be for that key. */
export async function installCertificate(context: KeyContext, ref: string, chainPemText: string): Promise<SigningKeyView> {
  const chain = parseCertificateBundle(chainPemText);
  return serialised(context.store, async () => {
    const { record, all } = await findKey(context.store, ref);
    if (record.state !== 'pending' && record.state !== 'ready') {
      throw bad(`signing key ${record.id} is ${effectiveState(record, context.nowMs())}: a certificate is installed on a pending or ready key`);
    }
    const leaf = chain[0]!;
    const expected = record.csrPem !== null ? publicKeyOfRequest(record.csrPem) : new X509Certificate(record.chainPem[0]!).publicKey;
    if (!sameKey(leaf.publicKey, expected)) throw bad(`the certificate is not for signing key ${record.id}: its public key differs`);
    checkSigningChain(chain, context.nowMs());
    const kid = kidOf(leaf);
    refuseDuplicate(all, kid, record.id);
    const installed: ManagedKeyRecord = { ...record, state: 'ready', kid, chainPem: chain.map((cert) => cert.toString()) };
    await context.store.saveSigningKeys([installed]);
    return viewOf(installed, context.nowMs());
  });
}

/** A key and its chain from a PKCS #12 bundle, stored ready (sealed at rest like any other). */
export async function importPkcs12(context: KeyContext, bundle: Uint8Array, bundlePassphrase: string): Promise<SigningKeyView> {
  const { privateKey, chain } = readPkcs12(bundle, bundlePassphrase);
  return serialised(context.store, async () => {
    checkSigningChain(chain, context.nowMs());
    const leaf = chain[0]!;
    const kid = kidOf(leaf);
    refuseDuplicate(await context.store.listSigningKeys(), kid);
    const now = context.nowMs();
    const record: ManagedKeyRecord = {
      id: newKeyId(), state: 'ready', kid, subject: leaf.subject.split('\n').join(', '), privateKeyPem: sealPrivateKey(privateKey, context.passphrase),
      csrPem: null, chainPem: chain.map((cert) => cert.toString()), createdAt: iso(now), activatedAt: null, overlapEndsAt: null,
    };
    await context.store.saveSigningKeys([record]);
    return viewOf(record, now);
  });
}

function overlapDaysOf(value: number | undefined): number {
  const days = value ?? DEFAULT_OVERLAP_DAYS;
  if (!Number.isInteger(days) || days < 0 || days > MAX_OVERLAP_DAYS) throw bad(`overlapDays: a whole number of days, 0–${MAX_OVERLAP_DAYS}`);
  return days;
}

/**
 * Makes a ready key (or, during its overlap, a retiring one: a rollback) the one that signs. The active
 * key becomes retiring until now + overlapDays, or retired at once with 0.
 */
export async function activateSigningKey(context: KeyContext, ref: string, options: ActivateOptions = {}): Promise<Activation> {
  const overlapDays = overlapDaysOf(options.overlapDays);
  return serialised(context.store, async () => {
    if (context.identityFromFiles) {
      throw bad('XR_SIGNING_KEY_FILE and XR_SIGNING_CERT_FILE configure the signing identity: unset them to sign with stored keys');
    }
    const now = context.nowMs();
    const { record, all } = await findKey(context.store, ref);
    const state = effectiveState(record, now);
    if (state === 'active') return { active: viewOf(record, now) };
    if (state !== 'ready' && state !== 'retiring') throw bad(`signing key ${record.id} is ${state}: only a ready key, or a retiring one during its overlap, can be activated`);
    const signer = signerOfRecord(context, record);
    const leaf = signer.chain[0]!;
    if (Date.parse(leaf.validFrom) > now) throw bad(`the certificate of signing key ${record.id} is valid only from ${new Date(leaf.validFrom).toISOString()}`);
    if (Date.parse(leaf.validTo) <= now) throw bad(`the certificate of signing key ${record.id} has expired`);
    const current = all.find((key) => key.state === 'active');
    if (current !== undefined && options.acceptNewAnchor !== true && !chainsToSameAnchor(record.chainPem, current.chainPem)) {
      throw bad(`the certificate of signing key ${record.id} does not chain to the CA of the active certificate (${topOf(current.chainPem)?.subject.split('\n').join(', ')}): `
        + 'partners that registered only that CA would refuse answers signed with it. Let them register the new CA (GET /admin/v1/identity '
        + 'publishes it since it was installed), then activate with acceptNewAnchor');
    }
    const activated: ManagedKeyRecord = { ...record, state: 'active', activatedAt: iso(now), overlapEndsAt: null };
    const previous: ManagedKeyRecord | undefined = current && (overlapDays > 0
      ? { ...current, state: 'retiring', overlapEndsAt: iso(now + overlapDays * DAY_MS) }
      : { ...current, state: 'retired', privateKeyPem: '', overlapEndsAt: iso(now) });
    await context.store.saveSigningKeys(previous === undefined ? [activated] : [previous, activated]);
    return { active: viewOf(activated, now), ...(previous === undefined ? {} : { previous: viewOf(previous, now) }) };
  });
}

/** Retiring keys whose overlap has ended become retired, their private keys destroyed. Returns them. */
export function retireEndedOverlaps(context: KeyContext): Promise<SigningKeyView[]> {
  return serialised(context.store, async () => {
    const now = context.nowMs();
    const ended = (await context.store.listSigningKeys())
      .filter((record) => record.state === 'retiring' && effectiveState(record, now) === 'retired')
      .map((record): ManagedKeyRecord => ({ ...record, state: 'retired', privateKeyPem: '' }));
    if (ended.length > 0) await context.store.saveSigningKeys(ended);
    return ended.map((record) => viewOf(record, now));
  });
}

/** With XR_KEY_PASSPHRASE set, stored keys still in plain PKCS #8 (from before it was set) are encrypted. Returns how many. */
export async function sealStoredKeys(context: KeyContext): Promise<number> {
  const { passphrase } = context;
  if (passphrase === undefined) return 0;
  return serialised(context.store, async () => {
    const plain = (await context.store.listSigningKeys()).filter((record) => record.privateKeyPem !== '' && !isSealed(record.privateKeyPem));
    const sealed = plain.map((record) => ({ ...record, privateKeyPem: sealPrivateKey(openPrivateKey(record.privateKeyPem, undefined, keyName(record)), passphrase) }));
    if (sealed.length > 0) await context.store.saveSigningKeys(sealed);
    return sealed.length;
  });
}

/** The active stored key as a Signer, or undefined when none is active yet. */
export async function loadActiveSigner(context: KeyContext): Promise<Signer | undefined> {
  const active = (await context.store.listSigningKeys()).find((record) => record.state === 'active');
  return active && signerOfRecord(context, active);
}

/** First start without a configured identity: a development PKI (certs/dev-pki.ts), its key sealed, active. */
export async function createDevelopmentIdentity(context: KeyContext, region: string): Promise<Signer> {
  const created = await createDevelopmentPki(region);
  return serialised(context.store, async () => {
    const signer = signerFromKey(openPrivateKey(created.privateKeyPem, undefined, 'the development key'), created.chainPem, {
      key: 'the development key', certificate: 'the development certificate', chain: 'the development chain',
    });
    await context.store.putSigningKey({
      kid: signer.kid, privateKeyPem: sealPrivateKey(signer.privateKey, context.passphrase), chainPem: created.chainPem, createdAt: iso(context.nowMs()),
    });
    return signer;
  });
}
