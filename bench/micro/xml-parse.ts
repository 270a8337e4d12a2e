/**
 * Micro-benchmark of the XML reader alone (not part of npm test): `npx tsx bench/micro/xml-parse.ts`.
 * Parses the Zhejiang application (GB18030, decoded first) repeatedly and prints µs per parse, the median
 * of 9 rounds (the machine is shared: one round can catch a neighbour's burst).
 *
 * `--baseline <dir>` also times the reader of another version of the engine, in alternate rounds; the
 * directory is made as bench/micro/translate.ts describes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeBody } from '../../adapters/engine/charset.ts';
import { DEFAULT_LIMITS } from '../../adapters/engine/hardening.ts';
import { parseXml } from '../../adapters/engine/xml-parse.ts';

const { values: options } = parseArgs({ options: { baseline: { type: 'string' } } });
const readers: Array<[string, typeof parseXml]> = [['current', parseXml]];
if (options.baseline !== undefined) {
  const module = pathToFileURL(path.resolve(options.baseline, 'adapters/engine/xml-parse.ts')).href;
  readers.unshift(['baseline', (await import(module) as typeof import('../../adapters/engine/xml-parse.ts')).parseXml]);
}

const file = path.resolve(import.meta.dirname, '../../../shared/fixtures/zj-xml/application.submit.request.xml');
const text = decodeBody(readFileSync(file), 'GB18030');
const runs = 5_000;
const rounds = new Map(readers.map(([label]) => [label, [] as number[]]));
for (const [, read] of readers) for (let i = 0; i < 2_000; i += 1) read(text, DEFAULT_LIMITS);
for (let round = 0; round < 9; round += 1) {
  for (const [label, read] of readers) {
    const start = performance.now();
    for (let i = 0; i < runs; i += 1) read(text, DEFAULT_LIMITS);
    rounds.get(label)!.push(((performance.now() - start) / runs) * 1000);
  }
}
for (const [label, times] of rounds) {
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  process.stdout.write(`parseXml (${label}), ${text.length} characters: ${median.toFixed(1)} µs per parse\n`);
}
