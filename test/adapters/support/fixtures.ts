/** The shared partner samples (../shared/fixtures next to the repository) as pairs to map both ways. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Direction, MessageType } from '../../../gateway/protocol/messages.ts';

export const REPO_ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');

export interface FixturePair {
  family: string;
  messageType: MessageType;
  direction: Direction;
  partner: Buffer;
  partnerFile: string;
  canonical: Record<string, unknown>;
}

export function fixturePairs(): FixturePair[] {
  const pairs: FixturePair[] = [];
  for (const family of readdirSync(FIXTURES).sort()) {
    const folder = path.join(FIXTURES, family);
    if (!statSync(folder).isDirectory()) continue;
    for (const file of readdirSync(folder).sort()) {
      const match = /^(.+)\.(request|response)\.(json|xml)$/.exec(file);
      if (match === null || file.endsWith('.canonical.json')) continue;
      const [, messageType, direction] = match;
      pairs.push({
        family,
        messageType: messageType as MessageType,
        direction: direction as Direction,
        partner: readFileSync(path.join(folder, file)),
        partnerFile: `${family}/${file}`,
        canonical: JSON.parse(readFileSync(path.join(folder, `${messageType}.${direction}.canonical.json`), 'utf8')),
      });
    }
  }
  return pairs;
}
