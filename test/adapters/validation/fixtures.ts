/** Shared by the validation tests: the canonical sample messages and an assertion for refusals. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XrError } from '../../../gateway/protocol/errors.ts';
import type { Direction, MessageType } from '../../../gateway/protocol/messages.ts';
import { isMessageType } from '../../../gateway/protocol/messages.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesDir = resolve(repoRoot, '../shared/fixtures');

export interface CanonicalFixture {
  family: string;
  file: string;
  messageType: MessageType;
  direction: Direction;
  doc: Record<string, unknown>;
}

/** Every `<family>/<messageType>.<direction>.canonical.json` under shared/fixtures, freshly parsed. */
export function canonicalFixtures(): CanonicalFixture[] {
  const fixtures: CanonicalFixture[] = [];
  for (const family of readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!family.isDirectory()) continue;
    for (const file of readdirSync(join(fixturesDir, family.name))) {
      const [, messageType = '', direction] = /^(.+)\.(request|response)\.canonical\.json$/.exec(file) ?? [];
      if (!isMessageType(messageType)) continue;
      const doc = JSON.parse(readFileSync(join(fixturesDir, family.name, file), 'utf8')) as Record<string, unknown>;
      fixtures.push({ family: family.name, file, messageType, direction: direction as Direction, doc });
    }
  }
  return fixtures;
}

/** A fresh copy of one sample, to be changed by a test. */
export function sample(family: string, messageType: MessageType, direction: Direction): Record<string, unknown> {
  const file = join(fixturesDir, family, `${messageType}.${direction}.canonical.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Asserts that `run` throws XR_VALIDATION whose detail begins with `path:` and returns the detail. */
export function assertRefused(run: () => unknown, path: string): string {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof XrError, `expected an XrError, got ${String(thrown)}`);
  assert.equal(thrown.code, 'XR_VALIDATION');
  assert.ok(thrown.detail.startsWith(`${path}: `), `detail should name ${path}: ${thrown.detail}`);
  return thrown.detail;
}

/**
 * licence.verify and evaluation.submit have no partner samples yet; these are valid examples of the
 * project's own canonical form for them, fresh on every call.
 */
export function ownSample(messageType: 'licence.verify' | 'evaluation.submit', direction: Direction): Record<string, unknown> {
  const samples = {
    'licence.verify': {
      request: {
        verifyNo: 'V3305022026112700001',
        licenceNo: 'JY23305020012345',
        holder: { idType: '001', idNumber: '91310115591693856A', name: '苏州示例科技有限公司' },
        requestedAt: '2026-11-27T09:30:00+08:00',
      },
      response: {
        verifyNo: 'V3305022026112700001',
        licenceNo: 'JY23305020012345',
        valid: true,
        licenceName: '食品经营许可证',
        validUntil: '2031-11-26',
        message: '证照有效',
      },
    },
    'evaluation.submit': {
      request: { applyNo: '3101172026112700001', score: 5, comment: '办事很快', evaluatedAt: '2026-11-29T10:00:00+08:00' },
      response: { applyNo: '3101172026112700001', message: '感谢评价' },
    },
  };
  return samples[messageType][direction];
}
