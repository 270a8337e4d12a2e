/**
 * Micro-benchmark of the inbound translation path (not part of npm test): `npx tsx bench/micro/translate.ts`.
 * For each family, the bench's own ≈ 2 KB application.submit (bench/lib/messages.ts) goes through what the
 * partner pipeline does on the main thread: toCanonical + validateCanonical of the request, then
 * validateCanonical + fromCanonical of the backend's receipt. Prints the median µs per message of each step.
 *
 * To compare with another version of the engine in the same process, give a directory holding that version's
 * adapters/ and gateway/protocol/ (and package.json, node_modules), e.g. from the last commit:
 *
 *     mkdir /tmp/xr-baseline && git archive HEAD adapters gateway/protocol package.json | tar -x -C /tmp/xr-baseline
 *     ln -s "$PWD/node_modules" /tmp/xr-baseline/node_modules
 *     npx tsx bench/micro/translate.ts --baseline /tmp/xr-baseline
 *
 * Rounds alternate between the two versions, so both see the same machine load; each version's output is
 * checked to be the same canonical document and the same partner bytes before anything is timed.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CanonicalDocument, PartnerFormat } from '../../adapters/index.ts';
import type { RegionTable } from '../../adapters/regions/index.ts';
import type { validateCanonical } from '../../adapters/validation/canonical.ts';
import { FAMILIES, partnerMessage, type Family } from '../lib/messages.ts';

const { values: options } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '9' },
    iterations: { type: 'string', default: '2000' },
    families: { type: 'string', default: FAMILIES.join(',') },
  },
});
const ROUNDS = Number(options.rounds);
const ITERATIONS = Number(options.iterations);
const families = options.families.split(',') as Family[];

/** One version of the engine: its formats, validation and region table. */
interface Engine {
  readonly label: string;
  format(family: Family): PartnerFormat;
  readonly validate: typeof validateCanonical;
  readonly regions: RegionTable;
}

async function loadEngine(label: string, root: string): Promise<Engine> {
  const url = (file: string): string => pathToFileURL(path.join(root, file)).href;
  const adapters = await import(url('adapters/index.ts')) as typeof import('../../adapters/index.ts');
  const validation = await import(url('adapters/validation/canonical.ts')) as typeof import('../../adapters/validation/canonical.ts');
  const regionModule = await import(url('adapters/regions/index.ts')) as typeof import('../../adapters/regions/index.ts');
  const registry = adapters.FormatRegistry.withShippedFormats();
  return {
    label,
    format: (family) => registry.get(family) ?? assert.fail(`${label} has no format ${family}`),
    validate: validation.validateCanonical,
    regions: regionModule.RegionTable.default(),
  };
}

const RECEIPT: CanonicalDocument = {
  applyNo: '3401002026112700001', handleNo: 'HZ2026112700001', status: 'RECEIVED',
  receivedAt: '2026-11-27T09:31:00+08:00', message: '已接收，待受理',
};

/** A partner region of each family, as the bench registers them (the request's acceptRegion). */
const REGION: Record<Family, string> = { 'hz-json': '330100', 'sh-json': '310117', 'zj-xml': '330400', 'js-xml': '320500', 'ah-xml': '340100' };

const STEPS = ['toCanonical', 'validate request', 'validate receipt', 'fromCanonical', 'total'] as const;
type Step = (typeof STEPS)[number];

async function timeSteps(engine: Engine, family: Family, body: Buffer): Promise<Record<Step, number>> {
  const format = engine.format(family);
  const perMessage = (start: number): number => ((performance.now() - start) / ITERATIONS) * 1000;
  let canonical: CanonicalDocument = {};
  let start = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) canonical = await format.toCanonical('application.submit', 'request', body);
  const toCanonical = perMessage(start);
  start = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) engine.validate('application.submit', 'request', canonical, engine.regions);
  const validateRequest = perMessage(start);
  start = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) engine.validate('application.submit', 'response', RECEIPT, engine.regions);
  const validateReceipt = perMessage(start);
  start = performance.now();
  for (let i = 0; i < ITERATIONS; i += 1) await format.fromCanonical('application.submit', 'response', RECEIPT);
  const fromCanonical = perMessage(start);
  return {
    toCanonical, 'validate request': validateRequest, 'validate receipt': validateReceipt, fromCanonical,
    total: toCanonical + validateRequest + validateReceipt + fromCanonical,
  };
}

async function sameOutput(engines: readonly Engine[], family: Family, body: Buffer): Promise<void> {
  const outputs = await Promise.all(engines.map(async (engine) => {
    const canonical = await engine.format(family).toCanonical('application.submit', 'request', body);
    engine.validate('application.submit', 'request', canonical, engine.regions);
    return { canonical, receipt: await engine.format(family).fromCanonical('application.submit', 'response', RECEIPT) };
  }));
  for (const output of outputs.slice(1)) {
    assert.deepEqual(output.canonical, outputs[0]!.canonical, `${family}: the canonical documents differ`);
    assert.ok(output.receipt.equals(outputs[0]!.receipt), `${family}: the receipts differ`);
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const engines = [await loadEngine('current', path.resolve(import.meta.dirname, '../..'))];
if (options.baseline !== undefined) engines.unshift(await loadEngine('baseline', path.resolve(options.baseline)));

process.stdout.write(`µs per message, median of ${ROUNDS} rounds of ${ITERATIONS} (rounds alternate between versions)\n`);
process.stdout.write(`${'family'.padEnd(9)} ${'bytes'.padStart(5)} ${'version'.padEnd(9)}${STEPS.map((step) => step.padStart(17)).join('')}\n`);
for (const family of families) {
  const { body } = await partnerMessage(family, REGION[family], 'realistic');
  await sameOutput(engines, family, body);
  const samples = new Map(engines.map((engine) => [engine, [] as Array<Record<Step, number>>]));
  for (const engine of engines) await timeSteps(engine, family, body);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const engine of engines) samples.get(engine)!.push(await timeSteps(engine, family, body));
  }
  for (const engine of engines) {
    const row = STEPS.map((step) => median(samples.get(engine)!.map((sample) => sample[step])).toFixed(1).padStart(17)).join('');
    process.stdout.write(`${family.padEnd(9)} ${String(body.length).padStart(5)} ${engine.label.padEnd(9)}${row}\n`);
  }
}
