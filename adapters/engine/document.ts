/**
 * Mapping document text (YAML, or JSON — YAML 1.2 reads JSON too) → plain data for the compiler.
 * Keys must stay strings: YAML reads `001:` as the number 1 and `true:` as a boolean, which would
 * silently corrupt a code table, so an unquoted key that is not a string is refused with its line.
 */
import YAML from 'yaml';
import { FormatDocumentError } from './errors.ts';

export function parseFormatDocument(text: string): unknown {
  if (typeof text !== 'string') throw new FormatDocumentError('', 'a mapping document is text (YAML or JSON)');
  const lineCounter = new YAML.LineCounter();
  const document = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const [syntaxError] = document.errors;
  if (syntaxError !== undefined) {
    const { line, col } = lineCounter.linePos(syntaxError.pos[0]);
    throw new FormatDocumentError(`line ${line}, column ${col}`, `not valid YAML or JSON: ${syntaxError.message.split('\n')[0]}`);
  }
  YAML.visit(document, {
    Pair(_key, pair) {
      const key = pair.key;
      if (YAML.isScalar(key) && typeof key.value === 'string') return;
      const offset = YAML.isNode(key) ? key.range?.[0] ?? 0 : 0;
      const { line, col } = lineCounter.linePos(offset);
      const source = YAML.isNode(key) && key.range ? text.slice(key.range[0], key.range[1]) : String(key);
      throw new FormatDocumentError(`line ${line}, column ${col}`, `the key ${source} is not a string: quote it ("${source}")`);
    },
  });
  return document.toJS({ maxAliasCount: 100 });
}
