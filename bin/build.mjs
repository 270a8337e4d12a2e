#!/usr/bin/env node
// `npm run build` (run by `npm start` first): compiles the gateway to dist/ with tsc (tsconfig.build.json;
// with --bench, tsconfig.bench.json: the benchmark's servers too, so they run as production does),
// then copies what the compiled code reads beside itself — mapping documents, the region table, the default
// partner list, the plain-JavaScript writer thread. Running compiled JavaScript instead of TypeScript through
// tsx saves the loader's own thread and transform work: ≈ 40 MB of resident memory per process (README).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const config = process.argv.includes('--bench') ? 'tsconfig.bench.json' : 'tsconfig.build.json';
execFileSync(process.execPath, [tsc, '-p', join(root, config)], { stdio: 'inherit', cwd: root });
const assets = [
  'adapters/formats',
  'adapters/regions/regions.json',
  'config/partners.default.yaml',
  'gateway/store/group-commit-worker.mjs',
];
for (const asset of assets) {
  const target = join(root, 'dist', asset);
  rmSync(target, { recursive: true, force: true });
  cpSync(join(root, asset), target, { recursive: true });
}
