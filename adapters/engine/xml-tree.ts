/**
 * The engine's own XML tree, built from the XML parser's events (xml-parse.ts), in which one element and many look alike
 * (children are always a list) and attributes live in a Map (no prototype keys). Written out by a small
 * serializer so that the bytes are exactly: declaration naming the charset, newline, compact body, newline.
 */
export interface XmlElement {
  readonly name: string;
  /** Absent when the element has none, as most have: an empty map for each cost as much as building the element. */
  attributes?: Map<string, string>;
  readonly children: XmlElement[];
  /** The element's own character data, its text nodes joined. */
  text: string;
}

export function xmlElement(name: string): XmlElement {
  return { name, children: [], text: '' };
}

/** Characters XML 1.0 (§2.2 Char) cannot carry at all, not even escaped; also lone surrogates. */
const NOT_XML_CHAR = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isXmlText(value: string): boolean {
  return !NOT_XML_CHAR.test(value);
}

// Text: '>' is escaped too so that ']]>' can never appear; a CR is escaped or the reader would turn it
// into LF (§2.11). Attributes: TAB, LF and CR are escaped or attribute normalisation would turn them into
// spaces (§3.3.3). One pass over the value each.
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;',
};
const escaped = (character: string): string => ESCAPES[character]!;

function escapeText(value: string): string {
  return value.replace(/[&<>\r]/g, escaped);
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, escaped);
}

function writeElement(element: XmlElement, out: string[]): void {
  out.push('<', element.name);
  for (const [name, value] of element.attributes ?? []) out.push(' ', name, '="', escapeAttribute(value), '"');
  if (element.text === '' && element.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>', escapeText(element.text));
  for (const child of element.children) writeElement(child, out);
  out.push('</', element.name, '>');
}

export function serializeXml(root: XmlElement, encoding: string): string {
  const out = [`<?xml version="1.0" encoding="${encoding}"?>\n`];
  writeElement(root, out);
  out.push('\n');
  return out.join('');
}
