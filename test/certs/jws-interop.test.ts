import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { FlattenedSign, flattenedVerify } from 'jose';
import { parseSignatureHeader, signDetached, verifyDetached } from '../../certs/jws.ts';
import { SIGNATURE_ALGORITHMS } from '../../gateway/protocol/messages.ts';
import { makePartnerPki } from '../support/pki.ts';

const BODY = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><回执><办件编号>1</办件编号></回执>');

describe('XR/1 signatures interoperate with jose, an independent JWS implementation', function () {
  for (const alg of SIGNATURE_ALGORITHMS) {
    it(`${alg}: jose verifies what we sign, and we verify what jose signs`, async function () {
      const { signer } = await (await makePartnerPki('310117', { alg })).issueLeaf({});
      const publicKey = signer.chain[0]!.publicKey;

      const ours = await signDetached(BODY, { iss: '310117', aud: '330500', jti: 'a' }, signer);
      const [protectedB64, , signature] = ours.split('.');
      const verified = await flattenedVerify({ protected: protectedB64!, payload: BODY, signature: signature! }, publicKey, { algorithms: [alg], crit: { b64: true } });
      assert.deepEqual(Buffer.from(verified.payload), BODY);

      const theirs = await new FlattenedSign(BODY)
        .setProtectedHeader({ alg, b64: false, crit: ['b64'], typ: 'xr+jws', kid: signer.kid, iss: '310117', aud: '330500', iat: 1, jti: 'b' })
        .sign(signer.privateKey);
      const parsed = parseSignatureHeader(`${theirs.protected}..${theirs.signature}`, [alg]);
      await verifyDetached(parsed, BODY, publicKey);
      await assert.rejects(verifyDetached(parsed, Buffer.concat([BODY, Buffer.from(' ')]), publicKey), { code: 'XR_SIGNATURE_INVALID' });
    });
  }
});
