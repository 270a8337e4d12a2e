/**
 * Partner XML → XmlElement, through sax with the hardening of shared/NOTES.md: no DOCTYPE or entity
 * declarations, no element or attribute names that collide with Object.prototype, bounded depth and
 * element count, exactly one root. Every failure is XR_MALFORMED; nothing here throws anything else.
 */
import sax from 'sax';
import { malformed } from './errors.ts';
import { isRefusedXmlName, type BodyLimits } from './hardening.ts';
import { xmlElement, type XmlElement } from './xml-tree.ts';
import { XrError } from '../../gateway/protocol/errors.ts';

// DOCTYPE has no business in a partner message; entity declarations can only live inside one.
const DECLARATION = /<!(DOCTYPE|ENTITY)/i;
const TAG_NAME = /<[^\s<>/!?]+/g;
const NEXT_ATTRIBUTE = /\s+([^\s=<>/]+)\s*=\s*(?:"[^"]*"|'[^']*')/y;

/**
 * Looks at every start tag's attributes before sax does, for two things sax cannot be stopped at: an
 * attribute named __proto__ (sax keeps attributes in a plain object, so it vanishes before our handler
 * could see it), and more attributes than the limit (sax reads a whole tag before anyone can count). One
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

  // Straight from sax's events to the engine's own tree: xml2js (sax plus an object builder) would build
  // a second tree of its own first, which cost more than the parse itself (bench/results.md, "Profile").
  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false, position: true });
  const open: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  parser.onopentag = (tag) => {
    elements += 1;
    if (isRefusedXmlName(tag.name)) throw malformed(`the element name ${tag.name} is not accepted`);
    if (elements > limits.maxElements) throw malformed(`more than ${limits.maxElements} elements`);
    if (open.length + 1 > limits.maxDepth) throw malformed(`elements nested deeper than ${limits.maxDepth}`);
    if (open.length === 0 && root !== undefined) throw malformed('more than one root element');
    const element = xmlElement(tag.name);
    for (const [name, value] of Object.entries(tag.attributes as Record<string, string>)) {
      if (isRefusedXmlName(name)) throw malformed(`the attribute name ${name} is not accepted`);
      element.attributes.set(name, value);
    }
    const parent = open.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    open.push(element);
  };
  parser.onclosetag = () => {
    open.pop();
  };
  const appendText = (chunk: string) => {
    const current = open.at(-1);
    if (current) current.text += chunk;
  };
  parser.ontext = appendText;
  parser.oncdata = appendText;
  parser.onerror = (error) => {
    throw malformed(`the XML is not well formed: ${saxProblem(error)}`);
  };
  try {
    // XML 1.0 §2.11: a reader turns CR LF and lone CR into LF before parsing.
    parser.write(text.replace(/\r\n?/g, '\n')).close();
  } catch (error) {
    throw error instanceof XrError ? error : malformed(`the XML is not well formed: ${saxProblem(error)}`);
  }
  if (root === undefined) throw malformed('the body holds no XML element');
  return root;
}

/** sax's first line ("Unexpected close tag") and position, without the "Char:" line that quotes the body. */
function saxProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const [problem = 'unknown error'] = message.split('\n');
  const line = /Line: (\d+)/.exec(message)?.[1];
  const column = /Column: (\d+)/.exec(message)?.[1];
  return line === undefined ? problem : `${problem} (line ${Number(line) + 1}, column ${column})`;
}
