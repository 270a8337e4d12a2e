/**
 * What reading a body into its signing input saves (not part of npm test): `npx tsx bench/micro/signing-input.ts`.
 * Main-thread time of one verifyDetached call — up to handing the input to the thread pool — for a body given
 * on its own (the signing input is built by copying it) and for a body read into its signing input
 * (readBodyAfter: no copy), at 2 KB and 1 MB. The signature check itself runs on libuv's pool either way.
 */
import { performance } from 'node:perf_hooks';
import { parseSignatureHeader, signDetached, signingInputPrefix, verifyDetached } from '../../certs/jws.ts';
import { makePartnerPki } from '../../test/support/pki.ts';

const { signer } = await makePartnerPki('310000');
const key = signer.chain[0]!.publicKey;

for (const size of [2 * 1024, 1024 * 1024]) {
  const body = Buffer.alloc(size, 'a');
  const parsed = parseSignatureHeader(await signDetached(body, { iss: '310000', aud: '330500', jti: 'j' }, signer, { includeX5c: true }), ['ES256']);
  const prefix = signingInputPrefix(parsed);
  const signingInput = Buffer.concat([prefix, body]);
  const signed = { signingInput, body: signingInput.subarray(prefix.length) };
  const rounds = size > 64 * 1024 ? 400 : 4000;
  const timeOf = async (given: Buffer | typeof signed) => {
    let syncMs = 0;
    for (let i = 0; i < rounds; i += 1) {
      const started = performance.now();
      const verified = verifyDetached(parsed, given, key);
      syncMs += performance.now() - started;
      await verified;
    }
    return (syncMs / rounds) * 1000;
  };
  for (let round = 0; round < 3; round += 1) {
    const copied = await timeOf(body);
    const inPlace = await timeOf(signed);
    console.log(`${size >= 1024 * 1024 ? '1 MB' : '2 KB'} body: main thread per verify ${copied.toFixed(1)} µs copied into a signing input, ${inPlace.toFixed(1)} µs read into it`);
  }
}
