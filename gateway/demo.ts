/**
 * `npm run demo`: the whole partner → Huzhou path on one machine, nothing else running. Starts the gateway
 * on a scratch data directory, a simulated local backend, and one simulated partner city per format family
 * (each with its own CA, registered through the admin API); each city sends an application and a status
 * update in its own format, signed; every step is printed; then a tampered copy is refused.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FormatRegistry } from '../adapters/index.ts';
import type { CanonicalDocument } from '../adapters/canonical.ts';
import { RegionTable } from '../adapters/regions/index.ts';
import { parseSignatureHeader, signDetached, verifyDetached } from '../certs/jws.ts';
import { TrustStore } from '../certs/trust-store.ts';
import { loadSettings } from '../config/settings.ts';
import { SimulatedBackend } from '../test/support/backend.ts';
import { makePartnerPki } from '../test/support/pki.ts';
import { createLogger } from './log.ts';
import { startGateway } from './server.ts';

const ADMIN_TOKEN = `demo-admin-${randomUUID()}`;
const CITIES = [
  { region: '310117', name: '上海市松江区', format: 'sh-json' },
  { region: '330400', name: '嘉兴市', format: 'zj-xml' },
  { region: '320500', name: '苏州市', format: 'js-xml' },
  { region: '340100', name: '合肥市', format: 'ah-xml' },
] as const;

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (text: string) => say(`  ✔ ${text}`);

function application(region: string, n: number): CanonicalDocument {
  const content = Buffer.from(`营业执照扫描件 ${region}`);
  return {
    applyNo: `${region}2026112700${n}`,
    itemCode: '许可-00757-000',
    itemName: '食品经营许可证核发',
    applicant: { type: 'PERSON', name: '李明', idType: '111', idNumber: '310117198506150033', mobile: '13900000001' },
    acceptRegion: region,
    handleRegion: '330502',
    submittedAt: '2026-11-27T09:30:01+08:00',
    materials: [{ code: 'M001', name: '营业执照', mediaType: 'application/pdf', sha256: createHash('sha256').update(content).digest('hex'), size: content.length, content: content.toString('base64') }],
    form: { shopName: '示例小吃店', area: '35.5' },
  };
}

function statusUpdate(region: string, n: number): CanonicalDocument {
  return { applyNo: `${region}2026112700${n}`, handleNo: `HZ3305022026112700${n}`, status: 'ACCEPTED', statusAt: '2026-11-27T11:00:00+08:00', remark: '已受理' };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-demo-'));
  const backend = await SimulatedBackend.start();
  const regions = RegionTable.default();
  const settings = loadSettings({
    XR_DATA_DIR: dataDir, XR_PARTNER_PORT: '0', XR_LOCAL_PORT: '0', XR_ADMIN_PORT: '0',
    XR_ADMIN_TOKEN: ADMIN_TOKEN, XR_LOCAL_BACKEND_URL: backend.url, XR_LOG_LEVEL: 'silent',
  }, (code) => regions.has(code));
  const gateway = await startGateway({ settings, log: createLogger('silent') });
  const admin = (method: string, pathname: string, body: string, contentType: string) =>
    fetch(`${gateway.urls.admin}${pathname}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType }, body });

  try {
    say(`Huzhou gateway (330500) on a scratch data directory ${dataDir}`);
    say(`  partner listener ${gateway.urls.partner}, admin ${gateway.urls.admin}, local backend ${backend.url}`);
    const identity = await (await fetch(`${gateway.urls.admin}/admin/v1/identity`)).json() as { kid: string; chain: string[] };
    say(`  Huzhou's signing certificate (development PKI): kid ${identity.kid}`);
    // Each city registers Huzhou's CA, as a real partner would from GET /admin/v1/identity.
    const huzhouTrust = new TrustStore();
    huzhouTrust.addAnchors('330500', identity.chain.at(-1)!);
    const formats = FormatRegistry.withShippedFormats();

    let n = 1;
    for (const city of CITIES) {
      say();
      say(`${city.name} (${city.region}) speaks ${city.format}`);
      const pki = await makePartnerPki(city.region);
      await admin('PUT', `/admin/v1/partners/${city.region}`, JSON.stringify({ name: city.name, endpoint: `https://xr.${city.region}.example`, format: city.format, services: ['application.submit', 'application.status'] }), 'application/json');
      const anchors = await (await admin('POST', `/admin/v1/partners/${city.region}/trust`, pki.caPem, 'application/x-pem-file')).json() as Array<{ kid: string }>;
      step(`registered through the admin API with its own CA (kid ${anchors[0]!.kid.slice(0, 12)}…)`);

      const format = formats.get(city.format)!;
      for (const [messageType, canonical] of [['application.submit', application(city.region, n)], ['application.status', statusUpdate(city.region, n)]] as const) {
        const body = await format.fromCanonical(messageType, 'request', canonical);
        const jti = randomUUID();
        const signature = await signDetached(body, { iss: city.region, aud: '330500', jti, htm: 'POST', htu: `/xr/v1/messages/${messageType}` }, pki.signer, { includeX5c: true });
        const { x5c: _chain, ...shown } = parseSignatureHeader(signature, [pki.signer.alg]).header;
        say(`  → ${messageType}: ${body.length} bytes of ${format.mediaType} (${format.charset}), X-XR-Signature header ${JSON.stringify(shown)} + x5c`);
        const calls = backend.calls.length;
        const response = await fetch(`${gateway.urls.partner}/xr/v1/messages/${messageType}`, {
          method: 'POST',
          headers: { 'content-type': format.mediaType, 'x-xr-signature': signature },
          body: new Uint8Array(body),
        });
        const answer = Buffer.from(await response.arrayBuffer());
        if (response.status >= 300) throw new Error(`refused: ${answer.toString()}`);
        step('signature, certificate chain, audience, clock, binding, replay and service checks passed');
        const received = backend.calls[calls]!;
        step(`the local backend received canonical JSON: applyNo ${String(received.body.applyNo)}, from ${String(received.headers['x-xr-source-region'])}`);
        const parsed = parseSignatureHeader(response.headers.get('x-xr-signature') ?? undefined, ['ES256']);
        await verifyDetached(parsed, answer, huzhouTrust.resolveSigner('330500', parsed.header.kid, parsed.header.x5c ?? identity.chain.map((pem) => pem.replace(/-----[^-]+-----|\s/g, '')), new Date()));
        step(`answer ${response.status} in ${city.format}, signed by Huzhou (irt ${parsed.header.irt === jti ? 'matches' : 'DOES NOT MATCH'}) and verified with Huzhou's published certificate`);
        if (messageType === 'application.submit') {
          say('  → the same application again, one byte changed after signing');
          const tampered = Buffer.from(body);
          tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
          const refused = await fetch(`${gateway.urls.partner}/xr/v1/messages/${messageType}`, {
            method: 'POST',
            headers: { 'content-type': format.mediaType, 'x-xr-signature': await signDetached(body, { iss: city.region, aud: '330500', jti: randomUUID(), htm: 'POST', htu: `/xr/v1/messages/${messageType}` }, pki.signer, { includeX5c: true }) },
            body: new Uint8Array(tampered),
          });
          const problem = await refused.json() as { code: string; detail: string };
          const untouched = backend.calls.length === calls + 1;
          step(`refused: ${refused.status} ${problem.code} (${problem.detail}); backend ${untouched ? 'not called' : 'CALLED'}`);
        }
        n += 1;
      }
    }
    say();
    say(`The backend received ${backend.calls.length} messages; every answer was signed and verified.`);
  } finally {
    await gateway.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
