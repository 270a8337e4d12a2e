/**
 * The live set of partner formats, by name. A document is compiled once, when it is put; requests only
 * `get` the compiled format. `put` replaces a format only after the new document compiled, so a bad
 * document leaves the old one in force (a request already holding the old format finishes with it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFormatDocument } from './document.ts';
import { compileFormat, type PartnerFormat } from './format.ts';

const FORMATS_DIRECTORY = fileURLToPath(new URL('../formats/', import.meta.url));
let shipped: ReadonlyMap<string, string> | undefined;

/** The mapping documents shipped in adapters/formats/ (`<name>.yaml`), read once; name → document text. */
export function shippedFormats(): Map<string, string> {
  shipped ??= new Map(
    readdirSync(FORMATS_DIRECTORY)
      .filter((file) => file.endsWith('.yaml'))
      .sort()
      .map((file) => [file.slice(0, -'.yaml'.length), readFileSync(`${FORMATS_DIRECTORY}${file}`, 'utf8')]),
  );
  return new Map(shipped);
}

export class FormatRegistry {
  readonly #formats = new Map<string, { format: PartnerFormat; source: string }>();

  /** Compiles every document given (name → text); throws FormatDocumentError on the first bad one. */
  constructor(documents: ReadonlyMap<string, string> = new Map()) {
    for (const [name, text] of documents) this.put(name, text);
  }

  static withShippedFormats(): FormatRegistry {
    return new FormatRegistry(shippedFormats());
  }

  get(name: string): PartnerFormat | undefined {
    return this.#formats.get(name)?.format;
  }

  /** The document text the format was compiled from. */
  source(name: string): string | undefined {
    return this.#formats.get(name)?.source;
  }

  names(): string[] {
    return [...this.#formats.keys()].sort();
  }

  /**
   * Compiles the document without storing it, as an operator's new document is held: it must also map every
   * field the canonical form requires of each message it maps (compileFormat). Throws FormatDocumentError
   * saying what is wrong and where.
   */
  check(name: string, documentText: string): PartnerFormat {
    return compileFormat(name, parseFormatDocument(documentText), { requireCanonicalFields: true });
  }

  /**
   * Compiles the document as one already stored is held (a rollback to it, a start-up loading it): the rules
   * of its own time, without the required-field rule of check. Throws FormatDocumentError.
   */
  compiles(name: string, documentText: string): PartnerFormat {
    return compileFormat(name, parseFormatDocument(documentText));
  }

  /** Compiles, then replaces (or adds) the format; on a compile error nothing changes. */
  put(name: string, documentText: string): PartnerFormat {
    const format = this.compiles(name, documentText);
    this.#formats.set(name, { format, source: documentText });
    return format;
  }
}
