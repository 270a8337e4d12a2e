/**
 * Partner XML → XmlElement, through saxes with the hardening of shared/NOTES.md: no DOCTYPE or entity
 * declarations, no element or attribute names that collide with Object.prototype, bounded depth and
 * element count, exactly one root. Every failure is XR_MALFORMED; nothing here throws anything else.
 *
 * saxes (a rewrite of sax, the parser under xml2js) rather than sax: it checks characters by code, where sax
 * runs a regular expression per character of every name — the 830-character Zhejiang fixture in 32 µs
 * rather than 84 (`npx tsx bench/micro/xml-parse.ts --baseline`) — and it holds to XML 1.0 more strictly
 * (characters XML cannot carry, such as U+0001, which sax let through), as a reader of signed messages should.
 */
import { SaxesParser } from 'saxes';
import { malformed } from './errors.ts';
import { isRefusedXmlName, type BodyLimits } from './hardening.ts';
import { xmlElement, type XmlElement } from './xml-tree.ts';
import { XrError } from '../../gateway/protocol/errors.ts';

export function parseXml(text: string, limits: BodyLimits): XmlElement {
  // XML 1.0 §2.11: a reader turns CR LF and lone CR into LF before parsing (saxes does too; done here
  // first, so that its line and column count what the sender sees).
  const normalized = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  // Straight from the parser's events to the engine's own tree: xml2js (sax plus an object builder) would
  // build a second tree of its own first, which cost more than the parse itself (bench/results.md, "Profile").
  const parser = new SaxesParser({ xmlns: false, position: true });
  // A DOCTYPE has no business in a partner message, and entity declarations can only live inside one
  // (anywhere else they, and a DOCTYPE after the prolog, are not well formed). Asked of the parser, not of the
  // text: "<!DOCTYPE" in a comment or a CDATA section is text, and the parser stops before the root is read.
  parser.on('doctype', () => {
    throw malformed('DOCTYPE and entity declarations are not accepted');
  });
  const open: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  // Attributes are taken one by one from their own event, not from the tag's plain object, where an attribute
  // named __proto__ would vanish; and counted as they come, so that a huge tag is refused before it is all read.
  let attributes: Map<string, string> | undefined;
  let attributeCount = 0;
  parser.on('attribute', ({ name, value }) => {
    attributeCount += 1;
    if (attributeCount > limits.maxElements) throw malformed(`more than ${limits.maxElements} attributes`);
    if (isRefusedXmlName(name)) throw malformed(`the attribute name ${name} is not accepted`);
    (attributes ??= new Map()).set(name, value);
  });
  parser.on('opentag', (tag) => {
    elements += 1;
    if (isRefusedXmlName(tag.name)) throw malformed(`the element name ${tag.name} is not accepted`);
    if (elements > limits.maxElements) throw malformed(`more than ${limits.maxElements} elements`);
    if (open.length + 1 > limits.maxDepth) throw malformed(`elements nested deeper than ${limits.maxDepth}`);
    if (open.length === 0 && root !== undefined) throw malformed('more than one root element');
    const element = xmlElement(tag.name);
    if (attributes !== undefined) {
      element.attributes = attributes;
      attributes = undefined;
    }
    const parent = open.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    if (!tag.isSelfClosing) open.push(element);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) open.pop();
  });
  const appendText = (chunk: string) => {
    const current = open.at(-1);
    if (current) current.text += chunk;
  };
  parser.on('text', appendText);
  parser.on('cdata', appendText);
  try {
    parser.write(normalized).close();
  } catch (error) {
    if (error instanceof XrError) throw error;
    throw malformed(`the XML is not well formed: ${bareAmpersand(normalized) ?? parserProblem(error)}`);
  }
  if (root === undefined) throw malformed('the body holds no XML element');
  return root;
}

/** An & that starts no reference ("a & b", "&amp b"); comments and CDATA sections, where it is text, aside. */
const BARE_AMPERSAND = /&(?!#?[\p{L}\p{N}_.:-]+;)/gu;
const LITERAL_SECTIONS = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g;

/**
 * saxes takes everything after an & up to the next ; as the entity's name, so a bare & surfaces at the end
 * as "unclosed tag": a body that failed is searched for one, to say where it is instead.
 */
function bareAmpersand(text: string): string | undefined {
  const markup = text.replace(LITERAL_SECTIONS, (section) => ' '.repeat(section.length));
  BARE_AMPERSAND.lastIndex = 0;
  const found = BARE_AMPERSAND.exec(markup);
  if (!found) return undefined;
  const before = markup.slice(0, found.index);
  const line = before.split('\n').length;
  const column = found.index - before.lastIndexOf('\n');
  return `an & that starts no entity or character reference (line ${line}, column ${column}): write it as &amp;`;
}

/**
 * saxes says "line:column: problem." — its column is of the next character, counted from 0: the one it
 * stopped at, counted from 1. The detail says "problem (line l, column c)".
 */
function parserProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /^(\d+):(\d+): (.*?)\.?$/s.exec(message);
  if (!match) return message;
  const [, line, column, problem = ''] = match;
  return `${problem} (line ${line}, column ${column})`;
}
