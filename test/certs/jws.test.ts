import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomUUID, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { parseSignatureHeader, signDetached, signingInputPrefix, verifyDetached, type SignedBody } from '../../certs/jws.ts';
import { generateKeyPair } from '../../certs/issue.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '../../gateway/protocol/messages.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { rejectsCode, throwsCode } from './assert-code.ts';

const ALL_ALGS = SIGNATURE_ALGORITHMS;
const body = Buffer.from('{"applyNo":"SH-2024-0001","applicant":{"name":"张三"}}');
const claims = { iss: '310000', aud: '330500', jti: 'a7c1f1de-0d8f-4a57-9d4e-0c6f8e2c1b11' };

/** A signature header built by hand, for refusals that a correct signer can never produce. */
function handMade(members: Record<string, unknown>, signature = 'c2lnbmF0dXJl'): string {
  return `${Buffer.from(JSON.stringify(members)).toString('base64url')}..${signature}`;
}

const validMembers = {
  alg: 'ES256', b64: false, crit: ['b64'], typ: 'xr+jws', kid: 'k'.repeat(43),
  iss: '310000', aud: '330500', iat: 1_700_000_000, jti: 'j-1',
};

function without(name: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(validMembers).filter(([key]) => key !== name));
}

function publicKeyOf(pki: PartnerPki): KeyObject {
  const [leaf] = pki.signer.chain;
  assert.ok(leaf);
  return leaf.publicKey;
}

describe('XR/1 detached JWS', () => {
  const pkis = new Map<SignatureAlgorithm, PartnerPki>();

  before(async () => {
    for (const alg of ALL_ALGS) pkis.set(alg, await makePartnerPki('310000', { alg }));
  });

  function pkiFor(alg: SignatureAlgorithm): PartnerPki {
    const pki = pkis.get(alg);
    assert.ok(pki);
    return pki;
  }

  describe('signing and verifying', () => {
    for (const alg of ALL_ALGS) {
      it(`round-trips a ${alg} signature over the raw body`, async () => {
        const pki = pkiFor(alg);
        const value = await signDetached(body, claims, pki.signer);
        const parsed = parseSignatureHeader(value, ALL_ALGS);
        assert.equal(parsed.header.alg, alg);
        await verifyDetached(parsed, body, publicKeyOf(pki));
      });
    }

    it('verifies a body read into its signing input (SignedBody), with nothing copied', async () => {
      const pki = pkiFor('ES256');
      const parsed = parseSignatureHeader(await signDetached(body, claims, pki.signer), ALL_ALGS);
      const prefix = signingInputPrefix(parsed);
      assert.equal(prefix.toString('ascii'), `${parsed.protectedB64}.`);
      const signingInput = Buffer.concat([prefix, body]);
      await verifyDetached(parsed, { signingInput, body: signingInput.subarray(prefix.length) }, publicKeyOf(pki));
    });

    it('produces exactly BASE64URL(header)..BASE64URL(signature) with the profile header members', async () => {
      const value = await signDetached(body, { ...claims, htm: 'POST', htu: '/xr/v1/messages/application.submit' }, pkiFor('ES256').signer);
      assert.match(value, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
      const { header } = parseSignatureHeader(value, ALL_ALGS);
      assert.deepEqual(header, {
        alg: 'ES256', b64: false, crit: ['b64'], typ: 'xr+jws', kid: pkiFor('ES256').signer.kid,
        iss: '310000', aud: '330500', iat: header.iat, jti: claims.jti,
        htm: 'POST', htu: '/xr/v1/messages/application.submit',
      });
    });

    it('writes every header as JSON.stringify writes the whole header, whatever the claims and however the signer\'s constant members fall in base64\'s groups of three', async () => {
      const pki = pkiFor('ES256');
      // kids of 43, 44 and 45 characters put the constant members' end at each of the three places in a group
      // of three bytes; the claims vary in length, and irt holds non-ASCII text (a partner's own message id).
      const signers = [43, 44, 45].map((length) => ({ ...pki.signer, kid: 'k'.repeat(length) }));
      for (const signer of signers) {
        for (const includeX5c of [false, true]) {
          for (const irt of [undefined, 'r', 'rr', 'rrr', '消息-0001', randomUUID()]) {
            const signed = { ...claims, iat: 1_700_000_000 + (irt?.length ?? 0), ...(irt === undefined ? {} : { irt }) };
            const value = await signDetached(body, signed, signer, { includeX5c });
            const whole = {
              alg: 'ES256', b64: false, crit: ['b64'], typ: 'xr+jws', kid: signer.kid,
              ...(includeX5c ? { x5c: signer.chain.map((cert) => cert.raw.toString('base64')) } : {}),
              iss: signed.iss, aud: signed.aud, iat: signed.iat, jti: signed.jti, ...(irt === undefined ? {} : { irt }),
            };
            assert.equal(value.split('..')[0], Buffer.from(JSON.stringify(whole), 'utf8').toString('base64url'), `kid ${signer.kid.length}, x5c ${includeX5c}, irt ${irt}`);
            await verifyDetached(parseSignatureHeader(value, ALL_ALGS), body, publicKeyOf(pki));
          }
        }
      }
    });

    it('signs ASCII(header) "." raw body, as RFC 7797 says, so that any JOSE library can check it', async () => {
      const pki = pkiFor('ES256');
      const value = await signDetached(body, claims, pki.signer);
      const [protectedB64 = '', , signatureB64 = ''] = value.split('.');
      const signingInput = Buffer.concat([Buffer.from(`${protectedB64}.`, 'ascii'), body]);
      const key = { key: publicKeyOf(pki), dsaEncoding: 'ieee-p1363' as const };
      assert.ok(nodeVerify('sha256', signingInput, key, Buffer.from(signatureB64, 'base64url')));
    });

    it('defaults iat to the current time in whole seconds', async () => {
      const before = Math.floor(Date.now() / 1000);
      const { header } = parseSignatureHeader(await signDetached(body, claims, pkiFor('EdDSA').signer), ALL_ALGS);
      assert.ok(Number.isInteger(header.iat) && header.iat >= before && header.iat <= Math.floor(Date.now() / 1000));
    });

    it('carries the chain as base64 DER in x5c only when asked to', async () => {
      const signer = pkiFor('ES256').signer;
      const withChain = parseSignatureHeader(await signDetached(body, claims, signer, { includeX5c: true }), ALL_ALGS);
      assert.deepEqual(withChain.header.x5c, signer.chain.map((cert) => cert.raw.toString('base64')));
      const without = parseSignatureHeader(await signDetached(body, { ...claims, irt: 'request-jti' }, signer), ALL_ALGS);
      assert.equal(without.header.x5c, undefined);
      assert.equal(without.header.irt, 'request-jti');
    });

    it('signs an empty body and a GB18030 body byte for byte', async () => {
      const pki = pkiFor('PS256');
      const gb18030 = Buffer.from([0x3c, 0x61, 0x3e, 0xd5, 0xc5, 0xc8, 0xfd, 0x3c, 0x2f, 0x61, 0x3e]);
      for (const raw of [new Uint8Array(0), gb18030]) {
        const parsed = parseSignatureHeader(await signDetached(raw, { ...claims, jti: randomUUID() }, pki.signer), ALL_ALGS);
        await verifyDetached(parsed, raw, publicKeyOf(pki));
      }
    });
  });

  describe('refusing a signature that does not verify', () => {
    it('refuses a tampered body with XR_SIGNATURE_INVALID', async () => {
      const pki = pkiFor('ES256');
      const parsed = parseSignatureHeader(await signDetached(body, claims, pki.signer), ALL_ALGS);
      const tampered = Buffer.from(body.toString('utf8').replace('0001', '0002'));
      await rejectsCode(verifyDetached(parsed, tampered, publicKeyOf(pki)), 'XR_SIGNATURE_INVALID');
    });

    it('refuses a tampered protected header with XR_SIGNATURE_INVALID', async () => {
      const pki = pkiFor('EdDSA');
      const value = await signDetached(body, claims, pki.signer);
      const [protectedB64 = '', , signatureB64 = ''] = value.split('.');
      const members = JSON.parse(Buffer.from(protectedB64, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forged = handMade({ ...members, jti: 'another-jti' }, signatureB64);
      await rejectsCode(verifyDetached(parseSignatureHeader(forged, ALL_ALGS), body, publicKeyOf(pki)), 'XR_SIGNATURE_INVALID');
    });

    it('refuses a SignedBody whose body is not the tail of its signing input, or whose header is another one', async () => {
      const pki = pkiFor('ES256');
      const parsed = parseSignatureHeader(await signDetached(body, claims, pki.signer), ALL_ALGS);
      const other = parseSignatureHeader(await signDetached(body, { ...claims, jti: 'another-jti' }, pki.signer), ALL_ALGS);
      const signingInput = Buffer.concat([signingInputPrefix(parsed), body]);
      const tail = signingInput.subarray(signingInput.length - body.length);
      const mixedUp: SignedBody[] = [
        // The same bytes, but not the ones verified: the caller would go on with a body nobody checked.
        { signingInput, body: Buffer.from(tail) },
        { signingInput, body: tail.subarray(1) },
        { signingInput: Buffer.concat([signingInputPrefix(other), body]), body },
      ];
      for (const signed of mixedUp) await rejectsCode(verifyDetached(parsed, signed, publicKeyOf(pki)), 'XR_SIGNATURE_INVALID');
      await rejectsCode(verifyDetached(other, { signingInput, body: tail }, publicKeyOf(pki)), 'XR_SIGNATURE_INVALID');
      await verifyDetached(parsed, { signingInput, body: tail }, publicKeyOf(pki));
    });

    it('refuses a signature made by another key of the same type', async () => {
      const parsed = parseSignatureHeader(await signDetached(body, claims, pkiFor('RS256').signer), ALL_ALGS);
      const other = await generateKeyPair('RS256');
      await rejectsCode(verifyDetached(parsed, body, other.publicKey), 'XR_SIGNATURE_INVALID');
    });

    it('refuses, without crashing, a key that does not fit the header alg', async () => {
      const parsed = parseSignatureHeader(await signDetached(body, claims, pkiFor('ES256').signer), ALL_ALGS);
      await rejectsCode(verifyDetached(parsed, body, publicKeyOf(pkiFor('PS256'))), 'XR_SIGNATURE_INVALID');
      await rejectsCode(verifyDetached(parsed, body, publicKeyOf(pkiFor('EdDSA'))), 'XR_SIGNATURE_INVALID');
      await rejectsCode(verifyDetached(parsed, body, pkiFor('ES256').signer.privateKey), 'XR_SIGNATURE_INVALID');
    });

    it('refuses an ES256 signature relabelled PS256 with XR_SIGNATURE_INVALID', async () => {
      const value = await signDetached(body, claims, pkiFor('ES256').signer);
      const [protectedB64 = '', , signatureB64 = ''] = value.split('.');
      const members = JSON.parse(Buffer.from(protectedB64, 'base64url').toString('utf8')) as Record<string, unknown>;
      const relabelled = parseSignatureHeader(handMade({ ...members, alg: 'PS256' }, signatureB64), ALL_ALGS);
      await rejectsCode(verifyDetached(relabelled, body, publicKeyOf(pkiFor('PS256'))), 'XR_SIGNATURE_INVALID');
    });
  });

  describe('parsing the X-XR-Signature header', () => {
    it('refuses an absent or empty header with XR_SIGNATURE_MISSING', () => {
      throwsCode(() => parseSignatureHeader(undefined, ALL_ALGS), 'XR_SIGNATURE_MISSING');
      throwsCode(() => parseSignatureHeader('', ALL_ALGS), 'XR_SIGNATURE_MISSING');
      throwsCode(() => parseSignatureHeader('  ', ALL_ALGS), 'XR_SIGNATURE_MISSING');
    });

    const header = handMade(validMembers).split('..')[0] ?? '';
    const shapes: Record<string, string> = {
      'a single token': 'abc',
      'an attached payload (compact serialisation)': `${header}.cGF5bG9hZA.c2ln`,
      'two empty payload separators': `${header}..c2ln..c2ln`,
      'an empty protected header': '..c2ln',
      'an empty signature': `${header}..`,
      'characters outside base64url': `${header}..c2ln+/==`,
      'padding': `${header}=..c2ln`,
      'a non-canonical base64url length': `${header}..c2lnA`,
    };
    for (const [shape, value] of Object.entries(shapes)) {
      it(`refuses ${shape} with XR_MALFORMED`, () => throwsCode(() => parseSignatureHeader(value, ALL_ALGS), 'XR_MALFORMED'));
    }

    const notObjects: Record<string, Buffer> = {
      'not JSON': Buffer.from('{alg:ES256'),
      'a JSON array': Buffer.from('["ES256"]'),
      'JSON null': Buffer.from('null'),
      'invalid UTF-8': Buffer.concat([Buffer.from('{"alg":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    };
    for (const [what, bytes] of Object.entries(notObjects)) {
      it(`refuses a protected header that is ${what} with XR_MALFORMED`, () =>
        throwsCode(() => parseSignatureHeader(`${bytes.toString('base64url')}..c2ln`, ALL_ALGS), 'XR_MALFORMED'));
    }

    for (const member of ['alg', 'kid', 'iss', 'aud', 'iat', 'jti']) {
      it(`refuses a header without ${member} with XR_MALFORMED`, () =>
        throwsCode(() => parseSignatureHeader(handMade(without(member)), ALL_ALGS), 'XR_MALFORMED'));
    }

    const wrongTypes: Record<string, Record<string, unknown>> = {
      'a five-digit iss': { iss: '31000' },
      'a numeric aud': { aud: 330500 },
      'a fractional iat': { iat: 1_700_000_000.5 },
      'a string iat': { iat: '1700000000' },
      'an empty jti': { jti: '' },
      'a numeric kid': { kid: 42 },
      'an x5c that is not an array of base64': { x5c: 'MIIB' },
      'a numeric htm': { htm: 1 },
    };
    for (const [what, change] of Object.entries(wrongTypes)) {
      it(`refuses ${what} with XR_MALFORMED`, () =>
        throwsCode(() => parseSignatureHeader(handMade({ ...validMembers, ...change }), ALL_ALGS), 'XR_MALFORMED'));
    }

    it('refuses alg none and HS256 with XR_ALG_NOT_ALLOWED even when the allow-list names them', () => {
      const careless = ['none', 'HS256', 'ES256'] as unknown as SignatureAlgorithm[];
      throwsCode(() => parseSignatureHeader(handMade({ ...validMembers, alg: 'none' }), careless), 'XR_ALG_NOT_ALLOWED');
      throwsCode(() => parseSignatureHeader(handMade({ ...validMembers, alg: 'HS256' }), careless), 'XR_ALG_NOT_ALLOWED');
    });

    it('refuses an alg outside the allow-list, or unknown to XR/1, with XR_ALG_NOT_ALLOWED', () => {
      throwsCode(() => parseSignatureHeader(handMade(validMembers), ['PS256', 'EdDSA']), 'XR_ALG_NOT_ALLOWED');
      throwsCode(() => parseSignatureHeader(handMade({ ...validMembers, alg: 'ES512' }), ALL_ALGS), 'XR_ALG_NOT_ALLOWED');
    });

    it('checks alg before crit, b64 and typ', () => {
      const bare = { alg: 'none', kid: 'k', iss: '310000', aud: '330500', iat: 1, jti: 'j' };
      throwsCode(() => parseSignatureHeader(handMade(bare), ALL_ALGS), 'XR_ALG_NOT_ALLOWED');
    });

    const profileBreaks: Record<string, Record<string, unknown>> = {
      'crit missing': without('crit'),
      'crit naming more than b64': { ...validMembers, crit: ['b64', 'exp'] },
      'crit as a string': { ...validMembers, crit: 'b64' },
      'b64 missing': without('b64'),
      'b64 true': { ...validMembers, b64: true },
      'typ missing': without('typ'),
      'typ JWT': { ...validMembers, typ: 'JWT' },
    };
    for (const [what, members] of Object.entries(profileBreaks)) {
      it(`refuses ${what} with XR_MALFORMED`, () => throwsCode(() => parseSignatureHeader(handMade(members), ALL_ALGS), 'XR_MALFORMED'));
    }

    it('returns the header and both segments exactly as received', () => {
      const value = handMade({ ...validMembers, extra: 'ignored' });
      const parsed = parseSignatureHeader(value, ALL_ALGS);
      assert.equal(`${parsed.protectedB64}..${parsed.signatureB64}`, value);
      assert.deepEqual(parsed.header, validMembers);
    });
  });
});
