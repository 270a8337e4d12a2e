/**
 * What a partner body may hold: the elements, attributes and keys its mapping reads, and nothing else. A
 * message translated by the rules alone would silently drop whatever they do not read — a misspelt
 * `<LICENCE_NO>` for `<LICENSE_NO>`, an extra key — and its value would be lost without a word. So before
 * the rules run, the body is held to the shape of the places they read; anything else is XR_TRANSLATION,
 * named by its path. A partner sending something harmless the mapping has no use for gets a field
 * `{ ignore: true }` in its mapping document (docs/mapping.md).
 *
 * Requests only, as with unknown canonical fields (adapters/validation): an answer is the receipt for work
 * the other side has done, and refusing it for an extra element would lose that receipt.
 *
 * The shape is built once, when the mapping is compiled (compile.ts); checking a body walks it once.
 */
import { isJsonObject, type JsonObject } from './body-model.ts';
import { untranslatable } from './errors.ts';
import type { PartnerPath } from './paths.ts';
import type { MappingRule } from './rules.ts';
import type { XmlElement } from './xml-tree.ts';

export interface Shape {
  /** Elements (XML) or keys (JSON) allowed here, each with its own shape. */
  readonly children: Map<string, Shape>;
  /** XML attributes allowed on this element. */
  readonly attributes: Set<string>;
  /** Anything at all may be here and below (an ignored place, a JSON map whose keys are the entries). */
  open: boolean;
}

function emptyShape(): Shape {
  return { children: new Map(), attributes: new Set(), open: false };
}

function childShape(shape: Shape, name: string): Shape {
  let child = shape.children.get(name);
  if (child === undefined) {
    child = emptyShape();
    shape.children.set(name, child);
  }
  return child;
}

/** The shape reached by `path`'s steps from `shape`, created as needed; its attribute, if any, allowed there. */
function addPath(shape: Shape, path: PartnerPath): Shape {
  let current = shape;
  for (const step of path.steps) current = childShape(current, step);
  if (path.attribute !== undefined) current.attributes.add(path.attribute);
  return current;
}

/** The shape of the places `rules` read, relative to the scope they run in (the root, or one item). */
export function shapeOf(rules: readonly MappingRule[], shape: Shape = emptyShape()): Shape {
  for (const rule of rules) {
    const reached = addPath(shape, rule.partner);
    switch (rule.kind) {
      case 'ignore':
        // An ignored element or key may hold anything; an ignored attribute is just allowed (addPath).
        if (rule.partner.attribute === undefined) reached.open = true;
        break;
      case 'each':
        shapeOf(rule.rules, reached);
        break;
      case 'entries':
        if (rule.entry === undefined) reached.open = true;
        else {
          addPath(reached, rule.entry.key);
          addPath(reached, rule.entry.value);
        }
        break;
      default:
        break;
    }
  }
  return shape;
}

/** Namespace declarations and xml:* attributes (xml:lang, xml:space) say how to read, not what: always allowed. */
function isXmlMetaAttribute(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xml:');
}

/** Refuses the first element or attribute of `element` (and below) that `shape` does not allow. */
export function checkXmlShape(element: XmlElement, shape: Shape, context: string, path: string): void {
  if (shape.open) return;
  if (element.attributes !== undefined) {
    for (const name of element.attributes.keys()) {
      if (!shape.attributes.has(name) && !isXmlMetaAttribute(name)) throw untranslatable(`${context}: ${path}/@${name} is not in the format's mapping`);
    }
  }
  for (const child of element.children) {
    const allowed = shape.children.get(child.name);
    if (allowed === undefined) throw untranslatable(`${context}: ${path}/${child.name} is not in the format's mapping`);
    checkXmlShape(child, allowed, context, `${path}/${child.name}`);
  }
}

/** Refuses the first key of `object` (and below, through objects and arrays of objects) that `shape` does not allow. */
export function checkJsonShape(object: JsonObject, shape: Shape, context: string, path: string): void {
  if (shape.open) return;
  for (const key of Object.keys(object)) {
    const allowed = shape.children.get(key);
    const at = path === '' ? key : `${path}/${key}`;
    if (allowed === undefined) throw untranslatable(`${context}: ${at} is not in the format's mapping`);
    const value = object[key];
    if (isJsonObject(value)) checkJsonShape(value, allowed, context, at);
    else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) if (isJsonObject(item)) checkJsonShape(item, allowed, context, `${at}[${index + 1}]`);
    }
  }
}
