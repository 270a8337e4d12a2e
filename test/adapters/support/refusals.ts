import assert from 'node:assert/strict';
import { isXrError, type XrCode } from '../../../gateway/protocol/errors.ts';

/** Awaits a translation that must be refused with `code`; returns the detail for further checks. */
export async function refusedWith(code: XrCode, translation: Promise<unknown>): Promise<string> {
  try {
    await translation;
  } catch (error) {
    assert.ok(isXrError(error), `expected an XrError, got ${String(error)}`);
    assert.equal(error.code, code, error.detail);
    return error.detail;
  }
  assert.fail(`expected ${code}, but the translation succeeded`);
}
