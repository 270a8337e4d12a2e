/**
 * Partner XML → XmlElement, through sax with the hardening of shared/NOTES.md: no DOCTYPE or entity
 * declarations, no element or attribute names that collide with Object.prototype, bounded depth and
 * element count, exactly one root. Every failure is XR_MALFORMED; nothing here throws anything else.
 */
import sax from 'sax';
import { malformed } from './errors.ts';
import { isRefusedXmlName, type BodyLimits } from './hardening.ts';
import type { XmlElement } from './xml-tree.ts';
import { XrError } from '../../gateway/protocol/errors.ts';

// DOCTYPE has no business in a partner message; entity declarations can only live inside one.
const DECLARATION = /<!(DOCTYPE|ENTITY)/i;

/** sax refused the body while reading it without positions: it is read again, with them, to say where. */
class NotWellFormed extends Error {}

export function parseXml(text: string, limits: BodyLimits): XmlElement {
  if (DECLARATION.test(text)) throw malformed('DOCTYPE and entity declarations are not accepted');
  // XML 1.0 §2.11: a reader turns CR LF and lone CR into LF before parsing.
  const normalized = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  // sax counts lines and columns on every character, a sixth of its time, only for its error messages. A
  // body is first read without them; one that turns out not to be well formed is read again with them (sax
  // stops at the same place: the count changes nothing else for a body written in one piece).
  try {
    return readTree(normalized, limits, false);
  } catch (error) {
    if (error instanceof NotWellFormed) return readTree(normalized, limits, true);
    throw error;
  }
}

function readTree(text: string, limits: BodyLimits, position: boolean): XmlElement {
  // Straight from sax's events to the engine's own tree: xml2js (sax plus an object builder) would build
  // a second tree of its own first, which cost more than the parse itself (bench/results.md, "Profile").
  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false, position });
  const notWellFormed = (error: unknown): Error => (position ? malformed(`the XML is not well formed: ${saxProblem(error)}`) : new NotWellFormed());
  const open: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  // Attributes are taken one by one from their own event, not from the tag's plain object, where an attribute
  // named __proto__ would vanish; and counted as they come, so that a huge tag is refused before sax has read it all.
  let attributes: Map<string, string> | undefined;
  let attributeCount = 0;
  parser.onattribute = ({ name, value }) => {
    attributeCount += 1;
    if (attributeCount > limits.maxElements) throw malformed(`more than ${limits.maxElements} attributes`);
    (attributes ??= new Map()).set(name, value);
  };
  parser.onopentag = (tag) => {
    elements += 1;
    if (isRefusedXmlName(tag.name)) throw malformed(`the element name ${tag.name} is not accepted`);
    if (elements > limits.maxElements) throw malformed(`more than ${limits.maxElements} elements`);
    if (open.length + 1 > limits.maxDepth) throw malformed(`elements nested deeper than ${limits.maxDepth}`);
    if (open.length === 0 && root !== undefined) throw malformed('more than one root element');
    const element: XmlElement = { name: tag.name, children: [], text: '' };
    if (attributes !== undefined) {
      for (const name of attributes.keys()) {
        if (isRefusedXmlName(name)) throw malformed(`the attribute name ${name} is not accepted`);
      }
      element.attributes = attributes;
      attributes = undefined;
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
    throw notWellFormed(error);
  };
  try {
    parser.write(text).close();
  } catch (error) {
    throw error instanceof XrError || error instanceof NotWellFormed ? error : notWellFormed(error);
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
