import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { constants, generateKeyPairSync, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { parseSignatureHeader, signDetached, verifyDetached } from '../../certs/jws.ts';
import { generateKeyPair } from '../../certs/issue.ts';
import { signBytes, signaturePlacement, verifyBytes, type SignaturePlacement } from '../../certs/signature.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '../../gateway/protocol/messages.ts';
import { rejectsCode } from './assert-code.ts';

const SMALL = Buffer.from('{"applyNo":"SH-2024-0001","applicant":{"name":"张三"}}');
const LARGE = Buffer.alloc(64 * 1024 + 1, 0x41);

/**
 * Whether `promise` had settled when it was returned: an inline signature is computed before signBytes
 * returns, one on libuv's pool is answered in a later turn of the event loop.
 */
async function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  const later = Symbol('later');
  const first = await Promise.race([promise.then(() => true, () => true), Promise.resolve(later).then((value) => value)]);
  await promise.catch(() => undefined);
  return first !== later;
}

describe('where signatures are computed (certs/signature.ts)', () => {
  const keys = new Map<SignatureAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }>();

  before(async () => {
    for (const alg of SIGNATURE_ALGORITHMS) keys.set(alg, await generateKeyPair(alg));
  });

  function keysFor(alg: SignatureAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
    const pair = keys.get(alg);
    assert.ok(pair);
    return pair;
  }

  it('computes them inline when the gateway has a process per core or more, on the pool when it has fewer', () => {
    assert.equal(signaturePlacement(2, 2), 'inline');
    assert.equal(signaturePlacement(4, 2), 'inline');
    assert.equal(signaturePlacement(1, 1), 'inline');
    assert.equal(signaturePlacement(1, 2), 'pool');
    assert.equal(signaturePlacement(3, 8), 'pool');
  });

  for (const placement of ['inline', 'pool'] as const satisfies readonly SignaturePlacement[]) {
    for (const alg of SIGNATURE_ALGORITHMS) {
      it(`${placement}: a ${alg} signature verifies with node:crypto, and a changed byte does not`, async () => {
        const { privateKey, publicKey } = keysFor(alg);
        const signature = await signBytes(alg, SMALL, privateKey, placement);
        const hash = alg === 'EdDSA' ? null : 'sha256';
        const options = alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : alg === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : {};
        assert.equal(nodeVerify(hash, SMALL, { key: publicKey, ...options }, signature), true);
        assert.equal(await verifyBytes(alg, SMALL, publicKey, signature, placement), true);
        const changed = Buffer.from(SMALL);
        changed[0] = changed[0]! ^ 1;
        assert.equal(await verifyBytes(alg, changed, publicKey, signature, placement), false);
      });
    }

    it(`${placement}: a signature of the wrong length, or none, does not verify`, async () => {
      for (const alg of SIGNATURE_ALGORITHMS) {
        const { privateKey, publicKey } = keysFor(alg);
        const signature = await signBytes(alg, SMALL, privateKey, placement);
        for (const wrong of [signature.subarray(0, 10), Buffer.alloc(0), Buffer.concat([signature, Buffer.from([1])])]) {
          assert.equal(await verifyBytes(alg, SMALL, publicKey, wrong, placement), false, `${alg}, ${wrong.length} bytes`);
        }
      }
    });

    it(`${placement}: a key that cannot sign rejects the promise, it does not throw`, async () => {
      const { publicKey } = keysFor('ES256');
      const signing = signBytes('ES256', SMALL, publicKey, placement);
      assert.ok(signing instanceof Promise);
      await assert.rejects(signing);
    });

    it(`${placement}: a detached JWS made and checked this way is XR_SIGNATURE_INVALID once the body changes`, async () => {
      const { privateKey, publicKey } = keysFor('ES256');
      const value = await signDetached(SMALL, { iss: '310000', aud: '330500', jti: 'j' }, { alg: 'ES256', kid: 'k', privateKey, chain: [] }, { placement });
      const parsed = parseSignatureHeader(value, ['ES256']);
      await verifyDetached(parsed, SMALL, publicKey, placement);
      await rejectsCode(verifyDetached(parsed, Buffer.concat([SMALL, Buffer.from(' ')]), publicKey, placement), 'XR_SIGNATURE_INVALID');
    });
  }

  it('inline: an ES256 or EdDSA signature and any verify of a small body are done before the call returns', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const { privateKey, publicKey } = keysFor(alg);
      const signing = signBytes(alg, SMALL, privateKey, 'inline');
      assert.equal(await settledAtOnce(signing), true, `${alg} sign`);
      assert.equal(await settledAtOnce(verifyBytes(alg, SMALL, publicKey, await signing, 'inline')), true, `${alg} verify`);
    }
    const { privateKey, publicKey } = keysFor('RS256');
    const rsaSignature = await signBytes('RS256', SMALL, privateKey, 'pool');
    assert.equal(await settledAtOnce(verifyBytes('RS256', SMALL, publicKey, rsaSignature, 'inline')), true, 'RS256 verify');
  });

  it('inline: RSA signing and inputs over 64 KiB still go to the pool, where they cannot hold the event loop', async () => {
    for (const alg of ['RS256', 'PS256'] as const) {
      assert.equal(await settledAtOnce(signBytes(alg, SMALL, keysFor(alg).privateKey, 'inline')), false, `${alg} sign`);
    }
    const { privateKey, publicKey } = keysFor('ES256');
    const largeSigning = signBytes('ES256', LARGE, privateKey, 'inline');
    assert.equal(await settledAtOnce(largeSigning), false, 'ES256 sign of 64 KiB + 1');
    assert.equal(await settledAtOnce(verifyBytes('ES256', LARGE, publicKey, await largeSigning, 'inline')), false, 'ES256 verify of 64 KiB + 1');
    assert.equal(await verifyBytes('ES256', LARGE, publicKey, await largeSigning, 'inline'), true);
  });

  it('pool: nothing is computed before the call returns', async () => {
    const { privateKey, publicKey } = keysFor('ES256');
    const signing = signBytes('ES256', SMALL, privateKey, 'pool');
    assert.equal(await settledAtOnce(signing), false);
    assert.equal(await settledAtOnce(verifyBytes('ES256', SMALL, publicKey, await signing, 'pool')), false);
    assert.equal(await settledAtOnce(signBytes('ES256', SMALL, privateKey)), false, 'the default is the pool');
  });

  it('inline: an RSA key of 4096 bits verifies inline and signs on the pool', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
    const signing = signBytes('PS256', SMALL, privateKey, 'inline');
    assert.equal(await settledAtOnce(signing), false);
    const verifying = verifyBytes('PS256', SMALL, publicKey, await signing, 'inline');
    assert.equal(await settledAtOnce(verifying), true);
    assert.equal(await verifying, true);
  });
});
