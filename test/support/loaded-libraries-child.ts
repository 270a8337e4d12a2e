/**
 * Run as a child process by test/certs/lazy-libraries.test.ts: starts a gateway on XR_DATA_DIR, optionally
 * makes one admin call (XR_CHILD_ADMIN_CALL="METHOD /path JSON-body"), and prints which of the certificate libraries
 * its process has loaded, as one JSON line (and whether undici's index, the whole library, was loaded).
 */
import { createRequire } from 'node:module';
import { ADMIN_TOKEN, startTestGateway } from './gateway.ts';

const requireHere = createRequire(import.meta.url);
const loaded = (name: string) => requireHere.cache[requireHere.resolve(name)] !== undefined;

const harness = await startTestGateway({ XR_DATA_DIR: process.env.XR_DATA_DIR! });
const afterStart = { x509: loaded('@peculiar/x509'), forge: loaded('node-forge'), undiciIndex: loaded('undici') };
let afterCall: { status: number; x509: boolean } | undefined;
const call = process.env.XR_CHILD_ADMIN_CALL;
if (call !== undefined) {
  const [method, pathname, ...body] = call.split(' ');
  const response = await fetch(`${harness.gateway.urls.admin}${pathname}`, {
    method, body: body.join(' '), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });
  await response.arrayBuffer();
  afterCall = { status: response.status, x509: loaded('@peculiar/x509') };
}
await harness.gateway.close();
process.stdout.write(`${JSON.stringify({ afterStart, afterCall })}\n`);
