/**
 * Admin calls for Huzhou's keys and every certificate the gateway depends on (gateway/keys/; runbook in
 * docs/operations-keys.md). Reads need the operator or auditor role, changes the operator role. No answer
 * ever carries a private key, encrypted or not.
 *
 *   GET  /admin/v1/keys                          every signing key with its state and certificate
 *   POST /admin/v1/keys                          {"subject", "alg"?} → 201 {"key", "csr"}: a new key and a CSR for Huzhou's CA
 *   PUT  /admin/v1/keys/{id}/certificate         PEM chain the CA issued (leaf first) → the key, ready
 *   POST /admin/v1/keys/{id}/activate            {"overlapDays"?: 14, "acceptNewAnchor"?: false} → {"active", "previous"}
 *   POST /admin/v1/keys/import                   {"pkcs12": base64, "passphrase"} → 201 the key, ready
 *   GET  /admin/v1/certificates                  {"certificates": [... daysLeft], "warnings": [...]}
 *   POST /admin/v1/partners/{region}/crl         a CRL of the region's CA (DER or PEM) → 201 what it revokes
 *   GET  /admin/v1/partners/{region}/crl         the CRLs in force for the region
 */
import { Buffer } from 'node:buffer';
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import type { Logger } from 'pino';
import { readCrl } from '../../certs/crl.ts';
import type { Directory } from '../directory.ts';
import { readJsonObject, readText } from '../http/json-body.ts';
import { parseMediaType, readRawBody } from '../http/raw-body.ts';
import { certificateExpiries, expiryWarnings, type CertificateWarning, type ExpirySources } from '../keys/expiry.ts';
import type { KeyContext } from '../keys/key-context.ts';
import { activateSigningKey, generateSigningKey, importPkcs12, installCertificate, listSigningKeys } from '../keys/lifecycle.ts';
import { importPartnerCrl } from '../keys/partner-crl.ts';
import { XrError } from '../protocol/errors.ts';
import type { Store } from '../store/store.ts';
import { requestLog } from '../request-context.ts';

/** What the gateway gives the admin API for keys (server.ts). */
export interface KeyAdmin {
  context: KeyContext;
  expiries: ExpirySources;
  /** After the active key changed: the gateway swaps the signer in force. */
  identityChanged(): Promise<void>;
}

export interface KeyRouteDeps {
  keys: KeyAdmin;
  store: Store;
  directory: Directory;
  log: Logger;
  /** The admin listener's role checks. */
  read: Middleware;
  change: Middleware;
}

const BODY_LIMIT = 1024 * 1024;
const PEM_TYPES = ['application/x-pem-file', 'application/pem-certificate-chain', 'text/plain'];
const CRL_TYPES = ['application/pkix-crl', 'application/x-pem-file', 'text/plain', 'application/octet-stream'];
const BASE64 = /^[A-Za-z0-9+/\s]+={0,2}\s*$/;

/** The fields a document may have; anything else (a typo such as "overlap_days") is refused rather than ignored. */
function onlyFields(document: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(document).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) throw new XrError('XR_BAD_REQUEST', `unknown field ${unknown[0]!.slice(0, 40)}; allowed: ${allowed.join(', ')}`);
}

function optionalOf<T>(document: Record<string, unknown>, name: string, type: 'number' | 'boolean' | 'string'): T | undefined {
  const value = document[name];
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new XrError('XR_BAD_REQUEST', `${name}: a ${type}`);
  return value as T;
}

/** An activation may come without a body: the defaults apply. */
async function optionalJson(ctx: Parameters<Middleware>[0]): Promise<Record<string, unknown>> {
  const length = ctx.get('content-length');
  if (ctx.get('content-type') === '' && (length === '' || length === '0')) return {};
  return readJsonObject(ctx, BODY_LIMIT);
}

export async function certificateWarnings(keys: KeyAdmin): Promise<CertificateWarning[]> {
  return expiryWarnings(await certificateExpiries(keys.expiries, keys.context.nowMs()));
}

export function addKeyRoutes(router: Router, deps: KeyRouteDeps): void {
  const { keys, log, read, change } = deps;
  const context = keys.context;

  router.get('/admin/v1/keys', read, async (ctx) => {
    ctx.body = await listSigningKeys(context);
  });

  router.post('/admin/v1/keys', change, async (ctx) => {
    const document = await readJsonObject(ctx, BODY_LIMIT);
    onlyFields(document, ['subject', 'alg']);
    const subject = optionalOf<string>(document, 'subject', 'string');
    if (subject === undefined) throw new XrError('XR_BAD_REQUEST', 'subject: the distinguished name to ask the CA for, e.g. CN=XR gateway 330500,O=Huzhou,C=CN');
    const alg = optionalOf<string>(document, 'alg', 'string');
    const { key, csrPem } = await generateSigningKey(context, { subject, ...(alg === undefined ? {} : { alg }) });
    requestLog(ctx, log).info({ keyId: key.id, alg: key.alg, subject: key.subject }, 'signing key generated; CSR issued');
    ctx.status = 201;
    ctx.body = { key, csr: csrPem };
  });

  router.post('/admin/v1/keys/import', change, async (ctx) => {
    const document = await readJsonObject(ctx, BODY_LIMIT);
    onlyFields(document, ['pkcs12', 'passphrase']);
    const bundle = optionalOf<string>(document, 'pkcs12', 'string');
    const passphrase = optionalOf<string>(document, 'passphrase', 'string');
    if (bundle === undefined || !BASE64.test(bundle)) throw new XrError('XR_BAD_REQUEST', 'pkcs12: the PKCS#12 file, base64');
    if (passphrase === undefined) throw new XrError('XR_BAD_REQUEST', 'passphrase: the PKCS#12 passphrase (a string, "" for none)');
    const key = await importPkcs12(context, Buffer.from(bundle, 'base64'), passphrase);
    requestLog(ctx, log).info({ keyId: key.id, kid: key.kid, subject: key.subject }, 'signing key imported from PKCS#12');
    ctx.status = 201;
    ctx.body = key;
  });

  router.put('/admin/v1/keys/:id/certificate', change, async (ctx) => {
    const pem = await readText(ctx, BODY_LIMIT, PEM_TYPES);
    const key = await installCertificate(context, ctx.params.id!, pem);
    requestLog(ctx, log).info({ keyId: key.id, kid: key.kid, notAfter: key.certificate?.notAfter }, 'certificate installed; key ready');
    ctx.body = key;
  });

  router.post('/admin/v1/keys/:id/activate', change, async (ctx) => {
    const document = await optionalJson(ctx);
    onlyFields(document, ['overlapDays', 'acceptNewAnchor']);
    const overlapDays = optionalOf<number>(document, 'overlapDays', 'number');
    const acceptNewAnchor = optionalOf<boolean>(document, 'acceptNewAnchor', 'boolean');
    const activation = await activateSigningKey(context, ctx.params.id!, {
      ...(overlapDays === undefined ? {} : { overlapDays }),
      ...(acceptNewAnchor === undefined ? {} : { acceptNewAnchor }),
    });
    await keys.identityChanged();
    requestLog(ctx, log).info({ keyId: activation.active.id, kid: activation.active.kid, previous: activation.previous?.kid, overlapEndsAt: activation.previous?.overlapEndsAt }, 'signing key activated');
    ctx.body = activation;
  });

  router.get('/admin/v1/certificates', read, async (ctx) => {
    const certificates = await certificateExpiries(keys.expiries, context.nowMs());
    ctx.body = { certificates, warnings: expiryWarnings(certificates) };
  });

  router.post('/admin/v1/partners/:region/crl', change, async (ctx) => {
    const region = ctx.params.region!;
    const media = parseMediaType(ctx.get('content-type'));
    if (!media || !CRL_TYPES.includes(media.essence)) throw new XrError('XR_UNSUPPORTED_MEDIA', `the body must be ${CRL_TYPES.join(' or ')}`);
    const summary = await importPartnerCrl({ store: deps.store, trust: deps.directory.trust, nowMs: context.nowMs }, region, await readRawBody(ctx.req, BODY_LIMIT));
    log[summary.stale ? 'warn' : 'info']({ region, issuerKid: summary.issuerKid, revoked: summary.revoked, nextUpdate: summary.nextUpdate }, summary.stale ? 'CRL imported, but its nextUpdate has passed' : 'CRL imported');
    ctx.status = 201;
    ctx.body = summary;
  });

  router.get('/admin/v1/partners/:region/crl', read, async (ctx) => {
    ctx.body = (await deps.store.listCrls(ctx.params.region!)).map((record) => {
      const crl = readCrl(record.der);
      return { region: record.region, issuer: crl.issuer, issuerKid: record.issuerKid, thisUpdate: record.thisUpdate, nextUpdate: record.nextUpdate, revoked: crl.entries.length, addedAt: record.addedAt };
    });
  });
}
