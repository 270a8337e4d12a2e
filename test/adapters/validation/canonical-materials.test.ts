import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Material } from '../../../adapters/canonical.ts';
import { RegionTable } from '../../../adapters/regions/index.ts';
import { validateCanonical } from '../../../adapters/validation/canonical.ts';
import { assertRefused, sample } from './fixtures.ts';

function materialOf(bytes: Buffer, code = 'M001'): Material {
  return {
    code,
    name: '身份证明',
    mediaType: 'application/pdf',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    content: bytes.toString('base64'),
  };
}

describe('materials: metadata, strict base64, and size and SHA-256 of the decoded content', () => {
  const regions = RegionTable.default();

  function submissionWith(materials: unknown[]): Record<string, unknown> {
    const submission = sample('ah-xml', 'application.submit', 'request');
    submission['materials'] = materials;
    return submission;
  }

  function refusedWith(materials: unknown[], path: string): string {
    return assertRefused(() => validateCanonical('application.submit', 'request', submissionWith(materials), regions), path);
  }

  function accepts(materials: unknown[]): void {
    const submission = submissionWith(materials);
    assert.equal(validateCanonical('application.submit', 'request', submission, regions), submission);
  }

  it('accepts no materials at all, leaving that rule to the backend', () => {
    accepts([]);
  });

  it('accepts several materials, including an empty file and one of 1 MiB', () => {
    accepts([materialOf(Buffer.from('identity proof')), materialOf(Buffer.alloc(0), 'M002'), materialOf(randomBytes(1024 * 1024), 'M003')]);
  });

  it('accepts content of every length modulo 3, that is with no, one and two padding characters', () => {
    accepts([materialOf(Buffer.from('abc')), materialOf(Buffer.from('abcd')), materialOf(Buffer.from('abcde'))]);
  });

  it('names the position of the material that fails', () => {
    const second = { ...materialOf(Buffer.from('second')), sha256: materialOf(Buffer.from('other')).sha256 };
    const detail = refusedWith([materialOf(Buffer.from('first')), second], 'materials[1].sha256');
    assert.equal(detail, 'materials[1].sha256: does not match the content');
  });

  it('refuses a sha256 in upper case or of the wrong length', () => {
    const material = materialOf(Buffer.from('x'));
    refusedWith([{ ...material, sha256: material.sha256.toUpperCase() }], 'materials[0].sha256');
    refusedWith([{ ...material, sha256: material.sha256.slice(1) }], 'materials[0].sha256');
  });

  it('refuses a size that differs from the decoded content and says both', () => {
    const detail = refusedWith([{ ...materialOf(Buffer.from('identity')), size: 9 }], 'materials[0].size');
    assert.equal(detail, 'materials[0].size: is 9, but the content decodes to 8 bytes');
  });

  it('refuses a size that is negative, fractional, textual or beyond a safe integer', () => {
    for (const size of [-1, 1.5, '8', Number.MAX_SAFE_INTEGER + 1, Number.NaN, null]) {
      refusedWith([{ ...materialOf(Buffer.from('identity')), size }], 'materials[0].size');
    }
  });

  it('refuses content that is not strict RFC 4648 base64', () => {
    const proof = materialOf(Buffer.from('identity proof of the applicant'));
    const garbage = [
      proof.content.replace(/=+$/, ''), // padding left out
      `${proof.content.slice(0, 8)}\n${proof.content.slice(8)}`, // line break
      ` ${proof.content}`, // leading space
      proof.content.replaceAll('/', '_').replaceAll('+', '-').replace('a', '_'), // base64url alphabet
      'QR==', // non-zero pad bits: decodes like QQ== but is not its encoding
      '!!!!',
      '====',
      'QQ==QQ==', // padding in the middle
      '身份证明',
    ];
    for (const content of garbage) {
      refusedWith([{ ...proof, content }], 'materials[0].content');
    }
    refusedWith([{ ...proof, content: 42 }], 'materials[0].content');
  });

  it('refuses a media type that is not type/subtype', () => {
    for (const mediaType of ['pdf', 'application/', '/pdf', '']) {
      refusedWith([{ ...materialOf(Buffer.from('x')), mediaType }], 'materials[0].mediaType');
    }
    accepts([{ ...materialOf(Buffer.from('x')), mediaType: 'text/plain; charset=utf-8' }]);
  });

  it('refuses a material missing a field or carrying one the canonical form does not define', () => {
    const { name: _name, ...withoutName } = materialOf(Buffer.from('x'));
    refusedWith([withoutName], 'materials[0].name');
    refusedWith([{ ...materialOf(Buffer.from('x')), url: 'https://example.invalid/m1' }], 'materials[0].url');
  });

  it('refuses an item of the list that is not an object', () => {
    for (const item of [null, [], 'M001', 7]) refusedWith([item], 'materials[0]');
  });
});
