import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SimulatedBackend, defaultReply } from '../support/backend.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki } from '../support/pki.ts';
import { postSigned, requestHeader, signRaw, verifyAnswer } from '../support/partner-client.ts';
import { xmlTree } from '../adapters/support/xml-tree.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
const FAMILIES = ['sh-json', 'zj-xml', 'js-xml', 'ah-xml'] as const;
const MESSAGES = ['application.submit', 'application.status'] as const;

function fixture(family: string, file: string): Buffer {
  return readFileSync(path.join(FIXTURES, family, file));
}

// Every body translated in place (the default for small ones), then every body on the translation thread
// (gateway/partner/translation-thread.ts, the path of large ones): the same fixtures, the same outcome.
for (const [where, translationThreadBytes] of [['translated in place', undefined], ['translated on the translation thread', 0]] as const) {
  describe(`partner inbound in each format family: the fixtures travel both ways through a running gateway (${where})`, function () {
    let backend: SimulatedBackend;
    let harness: TestGateway;
    let huzhouLeafPem: string;

    before(async function () {
      backend = await SimulatedBackend.start();
      harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url }, { translationThreadBytes });
      const identity = await (await fetch(`${harness.gateway.urls.admin}/admin/v1/identity`)).json() as { chain: string[] };
      huzhouLeafPem = identity.chain[0]!;
    });

    after(async function () {
      backend.behaviour = defaultReply;
      await harness.stop();
      await backend.stop();
    });

    for (const family of FAMILIES) {
      for (const messageType of MESSAGES) {
        it(`${family}: ${messageType} from the partner reaches the backend as the canonical fixture and the answer is the partner's fixture`, async function () {
          const region = fixture(family, 'region.txt').toString().trim();
          if (!harness.gateway.directory.partner(region)) {
            const pki = await makePartnerPki(region);
            assert.equal((await harness.admin('PUT', `/admin/v1/partners/${region}`, { name: family, endpoint: 'http://127.0.0.1:9', format: family, services: [...MESSAGES] })).status, 200);
            assert.equal((await harness.admin('POST', `/admin/v1/partners/${region}/trust`, pki.caPem)).status, 201);
            pkis.set(region, pki);
          }
          const pki = pkis.get(region)!;
          const ext = family.endsWith('xml') ? 'xml' : 'json';
          const body = fixture(family, `${messageType}.request.${ext}`);
          const canonicalRequest = JSON.parse(fixture(family, `${messageType}.request.canonical.json`).toString('utf8')) as Record<string, unknown>;
          const canonicalResponse = JSON.parse(fixture(family, `${messageType}.response.canonical.json`).toString('utf8')) as unknown;
          backend.behaviour = () => ({ status: 200, body: canonicalResponse });

          const header = requestHeader(pki.signer, { iss: region, messageType });
          const answer = await postSigned(harness.gateway.urls.partner, messageType, body, `application/${ext}`, signRaw(header, body, pki.signer.privateKey, 'ES256'));
          assert.equal(answer.status, 200, answer.body.toString());
          assert.deepEqual(backend.calls.at(-1)!.body, canonicalRequest);
          await verifyAnswer(answer, huzhouLeafPem, region, String(header.jti));

          const expected = fixture(family, `${messageType}.response.${ext}`);
          if (ext === 'json') assert.deepEqual(JSON.parse(answer.body.toString('utf8')), JSON.parse(expected.toString('utf8')));
          else assert.deepEqual(await xmlTree(answer.body), await xmlTree(expected));
          if (family === 'zj-xml') assert.match(answer.headers.get('content-type') ?? '', /charset=GB18030/i);
        });
      }
    }

    const pkis = new Map<string, Awaited<ReturnType<typeof makePartnerPki>>>();
  });
}
