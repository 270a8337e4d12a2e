/**
 * One material (an attached document): its metadata, and its content, whose size and SHA-256 must be those
 * of the decoded bytes. This runs on every submission, so the content is decoded exactly once.
 */
import { createHash } from 'node:crypto';
import type { Material } from '../canonical.ts';
import { decodeStrictBase64 } from './base64.ts';
import { type Check, fieldPath, integer, kindOf, line, record, refuse } from './rules.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** RFC 6838 §4.2 type/subtype names, optionally followed by parameters. */
const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(?:\s*;.*)?$/;

const mediaType: Check = (value, path, context) => {
  line(value, path, context);
  if (!MEDIA_TYPE.test(value as string)) refuse(path, 'must be a media type such as application/pdf');
};

const sha256Hex: Check = (value, path) => {
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) refuse(path, 'must be 64 lower-case hex digits (SHA-256)');
};

/** Only the type here: whether it is strict base64 is learnt from the one decoding in checkContent. */
const base64Content: Check = (value, path) => {
  if (typeof value !== 'string') refuse(path, `must be a base64 string, got ${kindOf(value)}`);
};

export const material: Check = record<Material>(
  {
    code: line,
    name: line,
    mediaType,
    sha256: sha256Hex,
    size: integer(0, Number.MAX_SAFE_INTEGER),
    content: base64Content,
  },
  checkContent,
);

function checkContent({ content, size, sha256 }: Material, path: string): void {
  const bytes = decodeStrictBase64(content);
  if (bytes === undefined) {
    refuse(fieldPath(path, 'content'), 'must be base64 (RFC 4648 §4: standard alphabet, padded, no line breaks)');
  }
  if (bytes.length !== size) refuse(fieldPath(path, 'size'), `is ${size}, but the content decodes to ${bytes.length} bytes`);
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) refuse(fieldPath(path, 'sha256'), 'does not match the content');
}
