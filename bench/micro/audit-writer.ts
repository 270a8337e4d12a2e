/**
 * Micro-benchmark of the audit writer thread's work per inbound message (not part of npm test):
 * `npx tsx bench/micro/audit-writer.ts`. What the writer thread does with one message's evidence, step by
 * step — the record's fields (digests, signature header), its canonical text, the chain hash — then the
 * insert, timed as CPU per record over whole batches (transaction and fsync included) in a fresh audit.sqlite.
 *
 * The evidence is shaped as the bench's: a 2 KB body, a signature header of ≈ 1.8 KB (x5c included), a
 * receipt-sized answer. `--baseline <dir>` runs a second version's audit store (a directory made as
 * bench/micro/translate.ts describes, with gateway/ and certs/ too) in alternate rounds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
function evidence() {
  return {
    kind: 'inbound' as const,
    facts: {
      code: 'OK', status: 200, partner: `3100${String(Math.floor(Math.random() * 20)).padStart(2, '0')}`, messageType: 'application.submit',
      applyNo: `3101172026${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`,
      header: { jti: randomUUID(), aud: '330500', iat: 1_795_800_000, kid: b64(32) },
      signature: `${b64(1350)}..${b64(64)}`, body: randomBytes(2048),
      answer: { body: randomBytes(200), signature: `${b64(200)}..${b64(64)}` }, durationMs: 3.2,
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
    const steps = results.get(version.label) ?? { fields: [], text: [], hash: [], 'append (CPU, whole batches)': [] };
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
  }
}
rmSync(scratch, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`µs per record, median of ${ROUNDS} rounds of ${RECORDS} (rounds alternate between versions); append = fields + text + hash + insert + commits`);
for (const [label, steps] of results) {
  console.log(`${label.padEnd(9)} ${Object.entries(steps).map(([step, values]) => `${step} ${median(values).toFixed(1)}`).join(', ')}`);
}
