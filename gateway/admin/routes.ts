/**
 * The admin listener (PROTOCOL §7): partners, trust, revocations, identity, formats, health. Reads need the
 * operator or auditor role, changes the operator role. Every change is written to the Store before the
 * live Directory, so it takes effect at once and survives a restart.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { CanonicalDocument } from '../../adapters/canonical.ts';
import { decodeBody } from '../../adapters/engine/charset.ts';
import { shippedFormats } from '../../adapters/engine/registry.ts';
import type { RegionTable } from '../../adapters/regions/index.ts';
import { validateCanonical } from '../../adapters/validation/canonical.ts';
import { normaliseSerial } from '../../certs/certificate-facts.ts';
import { parseCertificateBundle } from '../../certs/pem.ts';
import { kidOf } from '../../certs/thumbprint.ts';
import type { RegistryEntry } from '../../config/partner-registry.ts';
import type { Signer } from '../../certs/jws.ts';
import type { Directory } from '../directory.ts';
import { XrError } from '../protocol/errors.ts';
import { isMessageType, type Direction } from '../protocol/messages.ts';
import { problemResponder } from '../http/problem.ts';
import { presentedRoles, requireRole, type TokenTable } from '../http/auth.ts';
import { readJsonObject, readText } from '../http/json-body.ts';
import type { Store, TrustAnchorRecord } from '../store/store.ts';
import { publishedIdentity } from '../keys/published-identity.ts';
import { addKeyRoutes, certificateWarnings, type KeyAdmin } from './key-routes.ts';
import { PROBE_PATHS, type AdminOperations } from './operations-routes.ts';
import { addOutboundRoutes, type OutboundControl } from './outbound-routes.ts';
import { partnerFromDocument } from './partner-document.ts';
import { requestLog } from '../request-context.ts';

export interface AdminDeps {
  ownRegion: string;
  store: Store;
  directory: Directory;
  regions: RegionTable;
  defaultRegistry: ReadonlyMap<string, RegistryEntry>;
  tokens: TokenTable;
  log: Logger;
  signer(): Signer;
  ready(): boolean;
  /** Called after every successful change, before it is answered: in a cluster, every worker reloads first. */
  configurationChanged(): Promise<void>;
  /** The delivery side: the outbox and the circuit breakers (outbound-routes.ts). */
  outbound: OutboundControl;
  /** Huzhou's keys, certificates and partner CRLs (key-routes.ts). */
  keys: KeyAdmin;
  /** Request ids, the audit of every call, /admin/v1/audit, /metrics and /readyz (operations-routes.ts). */
  operations: AdminOperations;
}

const ADMIN_BODY_LIMIT = 1024 * 1024;
const READ = ['operator', 'auditor'] as const;
const CHANGE = ['operator'] as const;

function regionParam(value: string | undefined): string {
  if (value === undefined || !/^\d{6}$/.test(value)) throw new XrError('XR_BAD_REQUEST', `"${value}" is not a six-digit region code`);
  return value;
}

function isDirection(value: unknown): value is Direction {
  return value === 'request' || value === 'response';
}

/** What validation says of a dry-run translation: the same XR_VALIDATION the pipeline would answer. */
function validationOutcome(validate: () => unknown): { valid: true } | { valid: false; code: string; detail: string } {
  try {
    validate();
    return { valid: true };
  } catch (error) {
    if (error instanceof XrError) return { valid: false, code: error.code, detail: error.detail };
    throw error;
  }
}

/** `{"kid"}` or `{"serial"}` (hex, any case, leading zeros ignored), exactly one of them. */
function revocationTarget(document: Record<string, unknown>): { kid: string } | { serial: string } {
  const keys = Object.keys(document);
  const { kid, serial } = document;
  if (keys.length === 1 && typeof kid === 'string') {
    if (!/^[A-Za-z0-9_-]{43}$/.test(kid)) throw new XrError('XR_BAD_REQUEST', 'kid must be a base64url SHA-256 thumbprint (43 characters)');
    return { kid };
  }
  if (keys.length === 1 && typeof serial === 'string') {
    const normalised = normaliseSerial(serial);
    if (normalised === undefined) throw new XrError('XR_BAD_REQUEST', 'serial must be hexadecimal');
    return { serial: normalised };
  }
  throw new XrError('XR_BAD_REQUEST', 'give exactly one of {"kid": "..."} or {"serial": "..."}');
}


export function adminListener(deps: AdminDeps): Koa {
  const { store, directory } = deps;
  const app = new Koa();
  const router = new Router();
  const read = requireRole(deps.tokens, READ);
  const change = requireRole(deps.tokens, CHANGE);

  router.get('/healthz', async (ctx) => {
    const ready = deps.ready();
    ctx.status = ready ? 200 : 503;
    // Certificates close to expiry do not make the gateway unready: they are listed for whoever watches.
    ctx.body = { status: ready ? 'ok' : 'starting', warnings: await certificateWarnings(deps.keys) };
  });

  router.get('/admin/v1/partners', read, (ctx) => {
    ctx.body = directory.allPartners();
  });

  router.get('/admin/v1/partners/:region', read, (ctx) => {
    const region = regionParam(ctx.params.region);
    const partner = directory.partner(region);
    if (!partner) throw new XrError('XR_NOT_FOUND', `no partner ${region}`);
    ctx.body = { ...partner, trust: directory.trust.listAnchors(region) };
  });

  router.put('/admin/v1/partners/:region', change, async (ctx) => {
    const region = regionParam(ctx.params.region);
    const document = await readJsonObject(ctx, ADMIN_BODY_LIMIT);
    const partner = partnerFromDocument(region, document, {
      ownRegion: deps.ownRegion,
      knownRegion: (code) => deps.regions.has(code),
      knownFormat: (name) => directory.formats.get(name) !== undefined,
      defaults: deps.defaultRegistry.get(region),
      previous: directory.partner(region),
      now: new Date(),
    });
    await store.putPartner(partner);
    directory.setPartner(partner);
    requestLog(ctx, deps.log).info({ region, admin: ctx.state.role }, 'partner registered');
    ctx.body = partner;
  });

  router.delete('/admin/v1/partners/:region', change, async (ctx) => {
    const region = regionParam(ctx.params.region);
    if (!(await store.deletePartner(region))) throw new XrError('XR_NOT_FOUND', `no partner ${region}`);
    directory.removePartner(region);
    requestLog(ctx, deps.log).info({ region }, 'partner removed');
    ctx.status = 204;
  });

  router.post('/admin/v1/partners/:region/trust', change, async (ctx) => {
    const region = regionParam(ctx.params.region);
    if (!directory.partner(region)) throw new XrError('XR_NOT_FOUND', `no partner ${region}: register it first`);
    const pem = await readText(ctx, ADMIN_BODY_LIMIT, ['application/x-pem-file', 'application/pem-certificate-chain', 'text/plain']);
    // The whole bundle is parsed before anything is stored: one bad certificate refuses it all.
    const certificates = parseCertificateBundle(pem);
    const now = new Date().toISOString();
    const records: TrustAnchorRecord[] = certificates.map((cert) => ({
      region,
      kid: kidOf(cert),
      subject: cert.subject.split('\n').join(', '),
      notAfter: new Date(cert.validTo).toISOString(),
      pem: cert.toString(),
      addedAt: now,
    }));
    await store.addTrustAnchors(records);
    for (const record of records) directory.trust.addAnchors(region, record.pem);
    requestLog(ctx, deps.log).info({ region, kids: records.map((r) => r.kid) }, 'trust anchors added');
    ctx.status = 201;
    ctx.body = records.map(({ kid, subject, notAfter }) => ({ kid, subject, notAfter }));
  });

  router.post('/admin/v1/partners/:region/revocations', change, async (ctx) => {
    const region = regionParam(ctx.params.region);
    if (!directory.partner(region)) throw new XrError('XR_NOT_FOUND', `no partner ${region}`);
    const document = await readJsonObject(ctx, ADMIN_BODY_LIMIT);
    const target = revocationTarget(document);
    await store.addRevocation({ region, ...target, addedAt: new Date().toISOString() });
    directory.trust.revoke(region, target);
    requestLog(ctx, deps.log).info({ region, ...target }, 'certificate revoked');
    ctx.status = 201;
    ctx.body = { region, ...target };
  });

  router.get('/admin/v1/identity', async (ctx) => {
    // Public: partners need it to register Huzhou, and it holds only certificates.
    ctx.body = await publishedIdentity(deps.keys.context, deps.ownRegion, deps.signer());
  });

  addOutboundRoutes(router, { store, outbound: deps.outbound, log: deps.log, read, change });
  addKeyRoutes(router, { keys: deps.keys, store, directory, log: deps.log, read, change });
  deps.operations.addRoutes(router, { read, change });

  router.get('/admin/v1/formats', read, async (ctx) => {
    const saved = new Map((await store.listFormats()).map((f) => [f.name, f]));
    ctx.body = directory.formats.names().map((name) => ({
      name,
      version: saved.get(name)?.version ?? 0,
      source: saved.has(name) ? 'admin' : 'shipped',
      partners: directory.allPartners().filter((p) => p.format === name).map((p) => p.region),
    }));
  });

  router.get('/admin/v1/formats/:format', read, async (ctx) => {
    const name = ctx.params.format!;
    const { version } = ctx.query;
    if (version !== undefined && (typeof version !== 'string' || !/^[1-9][0-9]{0,8}$/.test(version))) {
      throw new XrError('XR_BAD_REQUEST', 'version: a positive integer (GET /admin/v1/formats/{format}/versions lists them)');
    }
    const requested = version === undefined ? undefined : Number(version);
    const saved = await store.getFormat(name, requested);
    const text = saved?.document ?? (requested === undefined ? directory.formats.source(name) : undefined);
    if (text === undefined) throw new XrError('XR_NOT_FOUND', `no format ${name}${requested === undefined ? '' : ` version ${requested}`}`);
    ctx.set('x-xr-format-version', String(saved?.version ?? 0));
    ctx.type = 'application/yaml';
    ctx.body = text;
  });

  router.get('/admin/v1/formats/:format/versions', read, async (ctx) => {
    const name = ctx.params.format!;
    ctx.body = (await store.formatHistory(name)).map(({ version, savedAt }) => ({ version, savedAt }));
  });

  router.put('/admin/v1/formats/:format', change, async (ctx) => {
    const name = ctx.params.format!;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new XrError('XR_BAD_REQUEST', 'a format name is lower-case letters, digits and hyphens');
    const text = await readText(ctx, ADMIN_BODY_LIMIT, ['application/yaml', 'application/x-yaml', 'text/yaml', 'application/json', 'text/plain']);
    // Compile first: a document that does not compile is refused and the old one stays in force.
    directory.formats.check(name, text);
    const version = await store.putFormat(name, text);
    directory.formats.put(name, text);
    requestLog(ctx, deps.log).info({ format: name, version: version.version }, 'format replaced');
    ctx.body = { name, version: version.version, savedAt: version.savedAt };
  });

  router.post('/admin/v1/formats/:format/rollback', change, async (ctx) => {
    const name = ctx.params.format!;
    const document = await readJsonObject(ctx, ADMIN_BODY_LIMIT);
    const { version: asked } = document;
    if (asked !== undefined && !(Number.isSafeInteger(asked) && (asked as number) >= 0)) {
      throw new XrError('XR_BAD_REQUEST', 'version is the number of a saved version (GET …/versions), or 0 for the shipped document');
    }
    const history = await store.formatHistory(name);
    // Version 0 is the document shipped with the gateway, in force before the first PUT: the version to go
    // back to when there is no earlier saved one.
    const shipped = shippedFormats().get(name);
    const shippedVersion = shipped === undefined ? undefined : { version: 0, document: shipped };
    const target = asked === undefined ? history[1] ?? (history.length === 1 ? shippedVersion : undefined)
      : asked === 0 ? shippedVersion : history.find((v) => v.version === asked);
    if (!target) throw new XrError('XR_NOT_FOUND', asked === undefined ? `format ${name} has no earlier version to roll back to` : `format ${name} has no version ${String(asked)}`);
    // A version that was in force once is put back as it was, even if a new document would now be held to
    // more (FormatRegistry.check): a rollback is what an operator reaches for when a change went wrong.
    directory.formats.compiles(name, target.document);
    const version = await store.putFormat(name, target.document);
    directory.formats.put(name, target.document);
    requestLog(ctx, deps.log).info({ format: name, from: target.version, version: version.version }, 'format rolled back');
    ctx.body = { name, version: version.version, restoredFrom: target.version };
  });

  router.post('/admin/v1/formats/:format/translate', read, async (ctx) => {
    const name = ctx.params.format!;
    const format = directory.formats.get(name);
    if (!format) throw new XrError('XR_NOT_FOUND', `no format ${name}`);
    const document = await readJsonObject(ctx, 16 * 1024 * 1024);
    const { messageType, direction, from, body } = document;
    if (typeof messageType !== 'string' || !isMessageType(messageType)) throw new XrError('XR_BAD_REQUEST', 'messageType: not an XR/1 message type');
    if (!isDirection(direction)) throw new XrError('XR_BAD_REQUEST', 'direction: request or response');
    // A dry run: translate (and validate, as the pipeline would) without sending anything anywhere.
    if (from === 'partner') {
      if (typeof body !== 'string') throw new XrError('XR_BAD_REQUEST', 'body: the partner message as a string ("encoding": "base64" for exact non-UTF-8 bytes)');
      const bytes = document.encoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
      const canonical = await format.toCanonical(messageType, direction, bytes);
      ctx.body = { canonical, validation: validationOutcome(() => validateCanonical(messageType, direction, canonical, deps.regions)) };
    } else if (from === 'canonical') {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new XrError('XR_BAD_REQUEST', 'body: the canonical message as a JSON object');
      const validation = validationOutcome(() => validateCanonical(messageType, direction, body, deps.regions));
      const bytes = await format.fromCanonical(messageType, direction, body as CanonicalDocument);
      ctx.body = {
        partner: decodeBody(bytes, format.charset),
        base64: bytes.toString('base64'),
        mediaType: format.mediaType,
        charset: format.charset,
        validation,
      };
    } else {
      throw new XrError('XR_BAD_REQUEST', 'from: "partner" or "canonical"');
    }
  });

  for (const middleware of deps.operations.middleware) app.use(middleware);
  app.use(problemResponder(deps.log));
  app.use(async function announceChanges(ctx, next) {
    await next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.status < 400) await deps.configurationChanged();
  });
  // A call without a valid token is refused as such (401, PROTOCOL §7) before anything else is said about it
  // — a method the path does not take included; the roles are checked by each route.
  app.use(async function tokenFirst(ctx, next) {
    if (!PUBLIC_PATHS.has(ctx.path.replace(/(?<=.)\/+$/, ''))) presentedRoles(deps.tokens, ctx);
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** What the admin listener answers without a token: probes, and Huzhou's identity for partners to register. */
const PUBLIC_PATHS: ReadonlySet<string> = new Set([...PROBE_PATHS, '/admin/v1/identity']);
