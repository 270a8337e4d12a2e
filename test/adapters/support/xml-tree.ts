/**
 * "Equal as a tree" for the fixture comparisons, built with xml2js independently of the engine's parser:
 * same elements in the same order, same attributes, same text; whitespace between elements ignored.
 */
import iconv from 'iconv-lite';
import xml2js from 'xml2js';

export interface Tree {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: Tree[];
}

interface Raw {
  '#name': string;
  '@'?: Record<string, string>;
  '#'?: string;
  '$$'?: Raw[];
}

function decode(bytes: Buffer): string {
  const declared = /encoding="([^"]+)"/.exec(bytes.subarray(0, 100).toString('latin1'))?.[1] ?? 'UTF-8';
  return iconv.decode(bytes, declared);
}

function normalise(raw: Raw): Tree {
  const children: Tree[] = [];
  let text = '';
  for (const child of raw.$$ ?? []) {
    if (child['#name'] === '__text__') text += child['#'] ?? '';
    else children.push(normalise(child));
  }
  const attributes = Object.fromEntries(Object.entries(raw['@'] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { name: raw['#name'], attributes, text: children.length > 0 && text.trim() === '' ? '' : text, children };
}

export async function xmlTree(bytes: Buffer): Promise<Tree> {
  const parsed = await xml2js.parseStringPromise(decode(bytes), {
    explicitChildren: true, preserveChildrenOrder: true, charsAsChildren: true, includeWhiteChars: true,
    explicitCharkey: true, attrkey: '@', charkey: '#',
  }) as Record<string, Raw>;
  return normalise(Object.values(parsed)[0]!);
}

export function xmlDeclaration(bytes: Buffer): string {
  return bytes.subarray(0, bytes.indexOf('?>') + 2).toString('latin1');
}
