import assert from 'node:assert/strict';
import type { Signer } from '../../certs/jws.ts';
import { readiness, type ReadinessSources } from '../../gateway/health.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki } from '../support/pki.ts';

interface ReadyAnswer {
  status: string;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

describe('health checks: /healthz (liveness) and /readyz (keys, storage, own certificate)', function () {
  describe('on a running gateway', function () {
    let harness: TestGateway;
    let offsetMs = 0;

    before(async function () {
      harness = await startTestGateway({}, { nowMs: () => Date.now() + offsetMs });
    });

    after(async function () {
      await harness.stop();
    });

    async function probe(pathname: string): Promise<{ status: number; body: ReadyAnswer }> {
      const response = await fetch(`${harness.gateway.urls.admin}${pathname}`);
      return { status: response.status, body: await response.json() as ReadyAnswer };
    }

    it('answers /readyz 200 without a token when keys sign and verify, storage answers and the certificate is valid', async function () {
      const { status, body } = await probe('/readyz');
      assert.equal(status, 200);
      assert.equal(body.status, 'ready');
      assert.deepEqual(body.checks.map((c) => [c.name, c.ok]), [['started', true], ['keys', true], ['storage', true], ['certificate', true]]);
    });

    it('answers /readyz 503 naming the certificate once Huzhou\'s signing certificate has expired, while /healthz stays 200', async function () {
      const leaf = harness.gateway.signer().chain[0]!;
      offsetMs = Date.parse(leaf.validTo) - Date.now() + 86_400_000;
      try {
        const { status, body } = await probe('/readyz');
        assert.equal(status, 503);
        assert.equal(body.status, 'unready');
        const failed = body.checks.filter((c) => !c.ok);
        assert.deepEqual(failed.map((c) => c.name), ['certificate']);
        assert.match(failed[0]!.detail, /expired at/);
        assert.equal((await probe('/healthz')).status, 200, 'alive, only not ready: no reason to restart it');
      } finally {
        offsetMs = 0;
      }
      assert.equal((await probe('/readyz')).status, 200);
    });

    it('answers /readyz 503 naming storage when the audit log cannot be reached', async function () {
      await harness.gateway.operations.audit.close();
      const { status, body } = await probe('/readyz');
      assert.equal(status, 503);
      assert.deepEqual(body.checks.filter((c) => !c.ok).map((c) => c.name), ['storage']);
    });
  });

  describe('readiness checks on their own', function () {
    let signer: Signer;
    let sources: ReadinessSources;

    before(async function () {
      signer = (await makePartnerPki('330500')).signer;
    });

    beforeEach(function () {
      sources = {
        ownRegion: '330500',
        started: () => true,
        signer: () => signer,
        store: { getSetting: async () => undefined },
        audit: { probe: async () => {} },
        nowMs: Date.now,
      };
    });

    const failing = async (changed: Partial<ReadinessSources>) => {
      const { ready, checks } = await readiness({ ...sources, ...changed });
      assert.equal(ready, false);
      return checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    };

    it('is ready when every check holds', async function () {
      assert.equal((await readiness(sources)).ready, true);
    });

    it('fails keys when the signing key does not belong to the published certificate', async function () {
      const stranger = (await makePartnerPki('330500')).signer;
      const mismatched: Signer = { ...signer, privateKey: stranger.privateKey };
      const failed = await failing({ signer: () => mismatched });
      assert.equal(failed.length, 1);
      assert.match(failed[0]!, /^keys: /);
    });

    it('fails storage when the Store does not answer', async function () {
      assert.deepEqual(await failing({ store: { getSetting: async () => { throw new Error('The database connection is not open'); } } }), ['storage: The database connection is not open']);
    });

    it('fails certificate before the certificate\'s validity begins', async function () {
      const failed = await failing({ nowMs: () => Date.parse(signer.chain[0]!.validFrom) - 86_400_000 });
      assert.equal(failed.length, 1);
      assert.match(failed[0]!, /^certificate: .* is not valid before /);
    });

    it('fails while the gateway starts or stops', async function () {
      assert.deepEqual(await failing({ started: () => false }), ['started: the gateway is starting or stopping']);
    });
  });
});
