/**
 * A compiled partner format, the object the gateway translates with: partner bytes ⇄ canonical document
 * for one message type and direction. Decoding, parsing (hardened), the mapping rules, serializing and
 * encoding happen here in that order; everything is compiled already, a call only runs it.
 */
import type { Direction, MessageType } from '../../gateway/protocol/messages.ts';
import type { CanonicalDocument, CanonicalMessage } from '../canonical.ts';
import { isJsonObject, jsonBody, xmlBody, type JsonObject } from './body-model.ts';
import { decodeBody, encodeText, xmlBodyCharset, type Charset } from './charset.ts';
import { compileDocument } from './compile.ts';
import { FormatDocumentError, untranslatable } from './errors.ts';
import type { BodyLimits } from './hardening.ts';
import { assertJsonShape, parseJson } from './json-parse.ts';
import type { CompiledDocument, CompiledMapping } from './rules.ts';
import { readCanonical, writePartner } from './translate.ts';
import { parseXml } from './xml-parse.ts';
import { isCanonicalField, requiredCanonicalFields } from '../validation/canonical.ts';
import { checkCarried, requiredNotCarried } from './carried.ts';
import { checkJsonShape, checkXmlShape } from './shape.ts';
import { serializeXml, xmlElement } from './xml-tree.ts';
import { XrError } from '../../gateway/protocol/errors.ts';

export interface PartnerFormat {
  readonly name: string;
  readonly mediaType: 'application/json' | 'application/xml';
  /** 'UTF-8' | 'GB18030' | 'GBK' */
  readonly charset: Charset;
  /** Whether the format maps this message type in this direction. */
  supports(messageType: MessageType, direction: Direction): boolean;
  /**
   * Partner bytes → canonical document. Rejects with XrError XR_MALFORMED when the body cannot be read
   * (bad bytes for the charset, bad JSON/XML, DOCTYPE, prototype names, too deep or too many) and
   * XR_TRANSLATION when it does not fit the mapping (missing field, unknown code, bad date, wrong type).
   */
  toCanonical(messageType: MessageType, direction: Direction, body: Buffer, received?: ReceivedAs): Promise<CanonicalDocument>;
  /**
   * Canonical document → partner bytes in the format's charset (XML declares it). Rejects with
   * XR_TRANSLATION when the document does not fit the mapping or holds a character the charset or XML
   * cannot carry.
   */
  fromCanonical(messageType: MessageType, direction: Direction, document: CanonicalDocument | CanonicalMessage): Promise<Buffer>;
}

/** How the body was labelled when it arrived. */
export interface ReceivedAs {
  /** The charset parameter of its Content-Type, if any: an XML body is read in it (xmlBodyCharset). */
  charset?: string;
}

class MappedFormat implements PartnerFormat {
  readonly name: string;
  readonly mediaType: 'application/json' | 'application/xml';
  readonly charset: Charset;

  constructor(private readonly compiled: CompiledDocument) {
    this.name = compiled.name;
    this.mediaType = compiled.mediaType;
    this.charset = compiled.charset;
  }

  supports(messageType: MessageType, direction: Direction): boolean {
    return this.compiled.identity || this.compiled.mappings.has(`${messageType} ${direction}`);
  }

  private mapping(messageType: MessageType, direction: Direction): CompiledMapping {
    const mapping = this.compiled.mappings.get(`${messageType} ${direction}`);
    if (mapping === undefined) throw untranslatable(`format ${this.name} does not map ${messageType} ${direction}`);
    return mapping;
  }

  async toCanonical(messageType: MessageType, direction: Direction, body: Buffer, received: ReceivedAs = {}): Promise<CanonicalDocument> {
    const context = `${this.name} ${messageType} ${direction}`;
    if (this.mediaType === 'application/xml') {
      const mapping = this.mapping(messageType, direction);
      const root = parseXml(decodeBody(body, xmlBodyCharset(body, this.charset, received.charset)), this.compiled.limits);
      if (root.name !== mapping.root) throw untranslatable(`${context}: the root element must be ${mapping.root}`);
      if (direction === 'request') checkXmlShape(root, mapping.shape, context, root.name);
      return readCanonical(mapping.rules, xmlBody, root, context, root.name);
    }
    const value = parseJson(decodeBody(body, this.charset), this.compiled.limits);
    if (!isJsonObject(value)) throw untranslatable(`${context}: the body must be a JSON object`);
    // The canonical form itself is held to its own fields by validation (adapters/validation).
    if (this.compiled.identity) return value;
    const mapping = this.mapping(messageType, direction);
    if (direction === 'request') checkJsonShape(value, mapping.shape, context, '');
    return readCanonical(mapping.rules, jsonBody, value, context, '');
  }

  async fromCanonical(messageType: MessageType, direction: Direction, message: CanonicalDocument | CanonicalMessage): Promise<Buffer> {
    const context = `${this.name} ${messageType} ${direction}`;
    const document: unknown = message;
    if (!isJsonObject(document)) throw untranslatable(`${context}: the canonical document must be an object`);
    // Identity formats are JSON: the canonical document is written as it is.
    if (this.compiled.identity) return encodeText(identityJson(document, this.compiled.limits, context), this.charset);
    const mapping = this.mapping(messageType, direction);
    if (direction === 'request') checkCarried(mapping.carried, document, context, this.name);
    if (this.mediaType === 'application/xml') {
      const root = xmlElement(mapping.root!);
      await writePartner(mapping.rules, xmlBody, root, document, context, root.name);
      return encodeText(serializeXml(root, this.charset), this.charset);
    }
    const body: JsonObject = {};
    await writePartner(mapping.rules, jsonBody, body, document, context, '');
    return encodeText(JSON.stringify(body), this.charset);
  }
}

/**
 * The canonical document as JSON, held to what the partner side would accept (the same hardening): the
 * document itself is checked, as parsing the text would check it, without parsing it back.
 */
function identityJson(document: CanonicalDocument, limits: BodyLimits, context: string): string {
  try {
    assertJsonShape(document, limits);
  } catch (error) {
    if (error instanceof XrError) throw untranslatable(`${context}: ${error.detail}`);
    throw error;
  }
  return JSON.stringify(document);
}

export interface CompileOptions {
  /**
   * Refuse a document whose mapping of a message leaves out a field every such message holds (a document being
   * put by an operator). Off for documents already stored, so that one accepted by an earlier version still loads.
   */
  requireCanonicalFields?: boolean;
}

/** Compiles a mapping document (as parsed by parseFormatDocument). Throws FormatDocumentError. */
export function compileFormat(name: string, document: unknown, options: CompileOptions = {}): PartnerFormat {
  const compiled = compileDocument(name, document);
  for (const [key, mapping] of compiled.mappings) {
    const [messageType, direction] = key.split(' ') as [MessageType, Direction];
    mapping.dropped.forEach((keys, index) => {
      if (!isCanonicalField(messageType, direction, keys)) {
        throw new FormatDocumentError(`messages["${messageType}"].${direction}.drop[${index}]`, `${keys.join('.')} is not a field of the canonical ${messageType} ${direction} ("[]" steps into a list's items)`);
      }
    });
    if (!options.requireCanonicalFields) continue;
    const missing = requiredNotCarried(mapping.carried, requiredCanonicalFields(messageType, direction));
    if (missing.length > 0) {
      throw new FormatDocumentError(`messages["${messageType}"].${direction}.fields`,
        `maps no field to canonical ${missing.join(', ')}, which every ${messageType} ${direction} holds (a partner with no place for it: name it in drop)`);
    }
  }
  return new MappedFormat(compiled);
}
