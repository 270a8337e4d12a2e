/**
 * Micro-benchmark of the XML reader alone (not part of npm test): `npx tsx bench/micro/xml-parse.ts`.
 * Parses the Zhejiang application (GB18030, decoded first) repeatedly and prints µs per parse.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeBody } from '../../adapters/engine/charset.ts';
import { DEFAULT_LIMITS } from '../../adapters/engine/hardening.ts';
import { parseXml } from '../../adapters/engine/xml-parse.ts';

const file = path.resolve(import.meta.dirname, '../../../shared/fixtures/zj-xml/application.submit.request.xml');
const text = decodeBody(readFileSync(file), 'GB18030');
const runs = 10_000;
for (let i = 0; i < 2_000; i += 1) parseXml(text, DEFAULT_LIMITS);
const start = performance.now();
for (let i = 0; i < runs; i += 1) parseXml(text, DEFAULT_LIMITS);
process.stdout.write(`parseXml, ${text.length} characters: ${(((performance.now() - start) / runs) * 1000).toFixed(1)} µs per parse\n`);
