/** Assertions that a refusal carries the expected PROTOCOL §5 code. */
import assert from 'node:assert/strict';
import { isXrError, type XrCode } from '../../gateway/protocol/errors.ts';

/** `detail`, when given, must match the error's detail: it proves the refusal came from the intended rule. */
export function throwsCode(action: () => unknown, code: XrCode, detail?: RegExp): void {
  assert.throws(action, (error: unknown) => matches(error, code, detail));
}

export async function rejectsCode(action: Promise<unknown>, code: XrCode, detail?: RegExp): Promise<void> {
  await assert.rejects(action, (error: unknown) => matches(error, code, detail));
}

function matches(error: unknown, code: XrCode, detail: RegExp | undefined): true {
  if (!isXrError(error) || error.code !== code) assert.fail(`expected ${code}, got ${isXrError(error) ? `${error.code}: ${error.detail}` : String(error)}`);
  if (detail !== undefined) assert.match(error.detail, detail);
  return true;
}
