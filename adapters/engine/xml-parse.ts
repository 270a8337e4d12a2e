/**
 * Partner XML → XmlElement, through xml2js with the hardening of shared/NOTES.md: no DOCTYPE or entity
 * declarations, no element or attribute names that collide with Object.prototype, bounded depth and
 * element count, exactly one root. Every failure is XR_MALFORMED; nothing here throws anything else.
 */
import xml2js from 'xml2js';
import { malformed } from './errors.ts';
import { isRefusedXmlName, type BodyLimits } from './hardening.ts';
import { xmlElement, type XmlElement } from './xml-tree.ts';
import { XrError } from '../../gateway/protocol/errors.ts';

/** xml2js's name for text nodes among the ordered children (`charsAsChildren`). */
const TEXT_NODE = '__text__';

/** The shape xml2js builds with the options below; keys chosen so that no XML name can collide with them. */
interface RawElement {
  '#name': string;
  '@attrs'?: Record<string, string>;
  '#text'?: string;
  '#children'?: RawElement[];
}

// DOCTYPE has no business in a partner message; entity declarations can only live inside one.
const DECLARATION = /<!(DOCTYPE|ENTITY)/i;
const TAG_NAME = /<[^\s<>/!?]+/g;
const NEXT_ATTRIBUTE = /\s+([^\s=<>/]+)\s*=\s*(?:"[^"]*"|'[^']*')/y;

/**
 * Looks at every start tag's attributes before sax does, for two things sax cannot be stopped at: an
 * attribute named __proto__ (sax keeps attributes in a plain object, so it vanishes before xml2js could
 * report it), and more attributes than the limit (sax reads a whole tag before anyone can count). One
 * attribute per regular-expression match, so that a huge tag cannot exhaust the regex engine's stack.
 */
function checkAttributes(text: string, limits: BodyLimits): void {
  let count = 0;
  for (const tag of text.matchAll(TAG_NAME)) {
    NEXT_ATTRIBUTE.lastIndex = tag.index! + tag[0].length;
    for (let attribute = NEXT_ATTRIBUTE.exec(text); attribute !== null; attribute = NEXT_ATTRIBUTE.exec(text)) {
      if (attribute[1] === '__proto__') throw malformed('the attribute name __proto__ is not accepted');
      count += 1;
      if (count > limits.maxElements) throw malformed(`more than ${limits.maxElements} attributes`);
    }
  }
}

export function parseXml(text: string, limits: BodyLimits): XmlElement {
  if (DECLARATION.test(text)) throw malformed('DOCTYPE and entity declarations are not accepted');
  checkAttributes(text, limits);

  let opened = 0;
  let closed = 0;
  const openElement = (name: string): string => {
    opened += 1;
    const depth = opened - closed;
    if (isRefusedXmlName(name)) throw malformed(`the element name ${name} is not accepted`);
    if (opened > limits.maxElements) throw malformed(`more than ${limits.maxElements} elements`);
    if (depth > limits.maxDepth) throw malformed(`elements nested deeper than ${limits.maxDepth}`);
    if (depth === 1 && opened > 1) throw malformed('more than one root element');
    return name;
  };
  const checkAttribute = (name: string): string => {
    if (isRefusedXmlName(name)) throw malformed(`the attribute name ${name} is not accepted`);
    return name;
  };
  const parser = new xml2js.Parser({
    explicitRoot: true,
    explicitArray: true,
    explicitCharkey: true,
    explicitChildren: true,
    preserveChildrenOrder: true,
    charsAsChildren: true,
    includeWhiteChars: true,
    attrkey: '@attrs',
    charkey: '#text',
    childkey: '#children',
    tagNameProcessors: [openElement],
    attrNameProcessors: [checkAttribute],
    // xml2js calls the validator once per closing tag: counting them gives the depth at each opening.
    validator: (_xpath: string, _current: unknown, element: unknown) => {
      closed += 1;
      return element;
    },
  });

  let result: Record<string, RawElement> | null = null;
  let failure: unknown;
  parser.on('end', (parsed: Record<string, RawElement> | null) => { result = parsed; });
  parser.on('error', (error: unknown) => { failure ??= error; });
  try {
    // XML 1.0 §2.11: a reader turns CR LF and lone CR into LF before parsing.
    parser.parseString(text.replace(/\r\n?/g, '\n'));
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure instanceof XrError ? failure : malformed(`the XML is not well formed: ${saxProblem(failure)}`);
  const root = result === null ? undefined : Object.values(result as Record<string, RawElement>)[0];
  if (root === undefined) throw malformed('the body holds no XML element');
  return toElement(root);
}

/** sax's first line ("Unexpected close tag") and position, without the "Char:" line that quotes the body. */
function saxProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const [problem = 'unknown error'] = message.split('\n');
  const line = /Line: (\d+)/.exec(message)?.[1];
  const column = /Column: (\d+)/.exec(message)?.[1];
  return line === undefined ? problem : `${problem} (line ${Number(line) + 1}, column ${column})`;
}

function toElement(raw: RawElement): XmlElement {
  const element = xmlElement(raw['#name']);
  for (const [name, value] of Object.entries(raw['@attrs'] ?? {})) element.attributes.set(name, value);
  for (const child of raw['#children'] ?? []) {
    if (child['#name'] === TEXT_NODE) element.text += child['#text'] ?? '';
    else element.children.push(toElement(child));
  }
  return element;
}
