/**
 * Micro-benchmark of the audit writer thread's work per inbound message (not part of npm test):
 * `npx tsx bench/micro/audit-writer.ts`. What the writer thread does with one message's evidence, step by
 * step — the record's fields (digests, signature header), its canonical text, the chain hash — then the
 * insert, timed as CPU per record over whole batches (transaction and fsync included) in a fresh audit.sqlite,
 * and the file's size per record.
 *
 * The evidence is shaped as the bench's: a 2 KB body, signature headers of ≈ 2 KB with their senders' x5c
 * chains (twenty partners; Huzhou's on the answers), a receipt-sized answer. `--baseline <dir>` runs a second version's audit store (a directory made as
 * bench/micro/translate.ts describes, with gateway/ and certs/ too) in alternate rounds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({ options: { baseline: { type: 'string' }, rounds: { type: 'string', default: '5' }, records: { type: 'string', default: '10000' } } });
const ROUNDS = Number(options.rounds);
const RECORDS = Number(options.records);
const BATCH = 250;

interface Version {
  label: string;
  store: typeof import('../../gateway/audit/audit-store.ts');
  records: typeof import('../../gateway/audit/records.ts');
  chain: typeof import('../../gateway/audit/chain.ts');
}

async function load(label: string, root: string): Promise<Version> {
  const url = (file: string) => pathToFileURL(path.join(root, file)).href;
  return {
    label,
    store: await import(url('gateway/audit/audit-store.ts')) as Version['store'],
    records: await import(url('gateway/audit/records.ts')) as Version['records'],
    chain: await import(url('gateway/audit/chain.ts')) as Version['chain'],
  };
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
/** A leaf and an intermediate certificate's DER in base64, as x5c carries them: one chain per sender. */
const chainOf = () => [randomBytes(520).toString('base64'), randomBytes(560).toString('base64')];
const partnerChains = Array.from({ length: 20 }, chainOf);
const huzhouChain = chainOf();
/** An XR/1 protected header as certs/jws.ts makes it, x5c included, base64url. */
function header(iss: string, aud: string, x5c: string[], extra: Record<string, string>): string {
  const fields = { alg: 'ES256', b64: false, crit: ['b64'], typ: 'xr+jws', kid: b64(32), x5c, iss, aud, iat: 1_795_800_000, jti: randomUUID(), ...extra };
  return Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
}
function evidence() {
  const partnerIndex = Math.floor(Math.random() * partnerChains.length);
  const partner = `3100${String(partnerIndex).padStart(2, '0')}`;
  const jti = randomUUID();
  return {
    kind: 'inbound' as const,
    facts: {
      code: 'OK', status: 200, partner, messageType: 'application.submit',
      applyNo: `3101172026${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`,
      header: { jti, aud: '330500', iat: 1_795_800_000, kid: b64(32) },
      signature: `${header(partner, '330500', partnerChains[partnerIndex]!, { htm: 'POST', htu: '/xr/v1/messages/application.submit' })}..${b64(64)}`,
      body: randomBytes(2048),
      answer: { body: randomBytes(200), signature: `${header('330500', partner, huzhouChain, { irt: jti })}..${b64(64)}` }, durationMs: 3.2,
    },
  };
}

const versions = [await load('current', path.resolve(import.meta.dirname, '../..'))];
if (options.baseline !== undefined) versions.unshift(await load('baseline', path.resolve(options.baseline)));
const sample = Array.from({ length: RECORDS }, evidence);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'xr-audit-bench-'));
const results = new Map<string, Record<string, number[]>>();

for (let round = 0; round < ROUNDS; round += 1) {
  for (const version of versions) {
    const steps = results.get(version.label) ?? { fields: [], text: [], hash: [], 'append (CPU, whole batches)': [], 'file bytes': [] };
    results.set(version.label, steps);
    const perRecord = (start: number) => ((performance.now() - start) / RECORDS) * 1000;
    let start = performance.now();
    const fields = sample.map((one) => version.records.fieldsOf(one));
    steps.fields!.push(perRecord(start));
    start = performance.now();
    const texts = fields.map((one, index) => version.chain.recordText({ seq: index + 1, time: '2026-11-28T00:00:00.000Z', kind: 'inbound', fields: one }));
    steps.text!.push(perRecord(start));
    start = performance.now();
    let previous = version.chain.GENESIS_HASH;
    for (const text of texts) previous = version.chain.chainHash(previous, text);
    steps.hash!.push(perRecord(start));

    const file = path.join(scratch, `${version.label}-${round}.sqlite`);
    const store = new version.store.AuditStore(file);
    const cpu = process.cpuUsage();
    for (let from = 0; from < RECORDS; from += BATCH) {
      store.append(sample.slice(from, from + BATCH).map((one) => ({ time: new Date().toISOString(), kind: 'inbound' as const, evidence: one })));
    }
    const used = process.cpuUsage(cpu);
    steps['append (CPU, whole batches)']!.push((used.user + used.system) / RECORDS);
    store.close();
    steps['file bytes']!.push(statSync(file).size / RECORDS);
  }
}
rmSync(scratch, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`µs per record, median of ${ROUNDS} rounds of ${RECORDS} (rounds alternate between versions); append = fields + text + hash + insert + commits; file bytes = audit.sqlite's size per record once closed`);
for (const [label, steps] of results) {
  console.log(`${label.padEnd(9)} ${Object.entries(steps).map(([step, values]) => `${step} ${median(values).toFixed(1)}`).join(', ')}`);
}
