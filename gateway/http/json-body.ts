/** JSON request bodies for the local and admin listeners: raw bytes with a limit, then a strict parse. */
import type { Context } from 'koa';
import { XrError } from '../protocol/errors.ts';
import { parseMediaType, readRawBody } from './raw-body.ts';

export async function readJsonObject(ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const media = parseMediaType(ctx.get('content-type'));
  if (media?.essence !== 'application/json') throw new XrError('XR_UNSUPPORTED_MEDIA', 'the body must be application/json');
  const raw = await readRawBody(ctx.req, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
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
