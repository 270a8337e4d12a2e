/**
 * JSON request bodies for the local and admin listeners: raw bytes with a limit, then the strict parse
 * partner JSON gets (adapters/engine/json-parse.ts): a key given twice, or one named after Object.prototype,
 * is refused — a local system and the gateway must not read one message two ways. JSON is UTF-8 (RFC 8259
 * §8.1): a Content-Type naming another charset is refused, as on the partner listener.
 */
import type { Context } from 'koa';
import { DEFAULT_LIMITS } from '../../adapters/engine/hardening.ts';
import { parseJson } from '../../adapters/engine/json-parse.ts';
import { XrError } from '../protocol/errors.ts';
import { parseMediaType, readRawBody } from './raw-body.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonObject(ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const media = parseMediaType(ctx.get('content-type'));
  if (media?.essence !== 'application/json') throw new XrError('XR_UNSUPPORTED_MEDIA', 'the body must be application/json');
  if (media.charset !== undefined && media.charset.toLowerCase() !== 'utf-8') {
    throw new XrError('XR_UNSUPPORTED_MEDIA', `JSON is UTF-8, not ${media.charset}`);
  }
  const raw = await readRawBody(ctx.req, limit);
  let text: string;
  try {
    // Bytes that are not UTF-8 are refused, not replaced by U+FFFD; a leading BOM is dropped (RFC 8259 §8.1).
    text = UTF8.decode(raw);
  } catch {
    throw new XrError('XR_MALFORMED', 'the body is not UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = parseJson(text, DEFAULT_LIMITS);
  } catch (error) {
    if (error instanceof XrError) throw new XrError('XR_MALFORMED', `the body is not valid JSON: ${error.detail}`);
    throw new XrError('XR_MALFORMED', 'the body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new XrError('XR_MALFORMED', 'the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export async function readText(ctx: Context, limit: number, mediaTypes: readonly string[]): Promise<string> {
  const media = parseMediaType(ctx.get('content-type'));
  if (!media || !mediaTypes.includes(media.essence)) {
    throw new XrError('XR_UNSUPPORTED_MEDIA', `the body must be ${mediaTypes.join(' or ')}`);
  }
  return (await readRawBody(ctx.req, limit)).toString('utf8');
}
