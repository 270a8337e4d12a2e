/**
 * The messages the benchmark sends: a canonical `application.submit` (docs/canonical.md) with one material,
 * translated into each partner format by the shipped mappings, as gateway/demo.ts does. Two sizes:
 *  - realistic: the partner body comes to about 2 KB (the material's size is chosen per format to get there);
 *  - large: a 768 KiB material, 1 MiB of base64 (the body ≈ 1 MB).
 * Material bytes are pseudo-random (incompressible, like a scanned PDF) but the same on every run.
 */
import { createHash } from 'node:crypto';
import { FormatRegistry, type PartnerFormat } from '../../adapters/index.ts';
import type { CanonicalDocument } from '../../adapters/canonical.ts';

export const FAMILIES = ['hz-json', 'sh-json', 'zj-xml', 'js-xml', 'ah-xml'] as const;
export type Family = (typeof FAMILIES)[number];

export const REALISTIC_BYTES = 2048;
export const LARGE_MATERIAL_BYTES = 768 * 1024;

const formats = FormatRegistry.withShippedFormats();

export function formatOf(family: string): PartnerFormat {
  const format = formats.get(family);
  if (!format) throw new Error(`no shipped format ${family}`);
  return format;
}

/** xorshift32: the same bytes every run, so a run's bodies are comparable with the last. */
function materialBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let state = 0x9e3779b9;
  for (let i = 0; i < size; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

export function applicationSubmit(acceptRegion: string, materialSize: number, handleRegion = '330502'): CanonicalDocument {
  const content = materialBytes(materialSize);
  return {
    applyNo: `${acceptRegion}2026112700001`,
    itemCode: '许可-00757-000',
    itemName: '食品经营许可证核发',
    applicant: { type: 'PERSON', name: '王芳', idType: '111', idNumber: '330502199003070029', mobile: '13900000002' },
    acceptRegion,
    handleRegion,
    submittedAt: '2026-11-27T09:30:02+08:00',
    materials: [{
      code: 'M001',
      name: '营业执照扫描件',
      mediaType: 'application/pdf',
      sha256: createHash('sha256').update(content).digest('hex'),
      size: content.length,
      content: content.toString('base64'),
    }],
    form: { shopName: '示例小吃店', area: '35.5', address: '湖州市吴兴区示例路 1 号', businessScope: '预包装食品销售，热食类食品制售', employees: '6' },
  };
}

export interface PartnerMessage {
  family: Family;
  body: Buffer;
  contentType: string;
}

export async function partnerMessage(family: Family, acceptRegion: string, size: 'realistic' | 'large'): Promise<PartnerMessage> {
  const format = formatOf(family);
  const encode = (materialSize: number) => format.fromCanonical('application.submit', 'request', applicationSubmit(acceptRegion, materialSize));
  let materialSize = LARGE_MATERIAL_BYTES;
  if (size === 'realistic') {
    // base64 adds a third; whatever else the format adds is measured with no material at all.
    const overhead = (await encode(0)).length;
    materialSize = Math.max(0, Math.floor(((REALISTIC_BYTES - overhead) * 3) / 4));
  }
  return { family, body: await encode(materialSize), contentType: `${format.mediaType}; charset=${format.charset}` };
}
