/**
 * How rules read and write a partner body. The translator is the same for XML and JSON; these two models
 * are where the bodies differ: XML has elements (one or many, always a list here), attributes and text;
 * JSON has objects, arrays and typed scalars.
 */
import { untranslatable, type Where } from './errors.ts';
import type { PartnerPath } from './paths.ts';
import type { Scalar } from './scalar.ts';
import { isXmlText, xmlElement, type XmlElement } from './xml-tree.ts';

export interface BodyModel<Scope> {
  /**
   * XML cannot say "an empty list" other than by having no elements, so there a missing list is an
   * empty one; JSON can, so there a missing list is missing.
   */
  readonly missingListIsEmpty: boolean;
  /** The scalar at `path`, undefined when absent. */
  read(scope: Scope, path: PartnerPath, where: Where): Scalar | undefined;
  /** The repeated elements / array items at `path`, undefined when absent. */
  items(scope: Scope, path: PartnerPath, where: Where): Scope[] | undefined;
  /** JSON only: the entries of the object at `path`, undefined when absent. */
  objectEntries(scope: Scope, path: PartnerPath, where: Where): Array<[string, unknown]> | undefined;
  write(scope: Scope, path: PartnerPath, value: Scalar, where: Where): void;
  /** Appends one more repeated element / array item at `path` and returns it. */
  addItem(scope: Scope, path: PartnerPath): Scope;
  /** Makes an empty list visible (JSON `[]`); nothing to do in XML. */
  writeEmptyList(scope: Scope, path: PartnerPath): void;
  /** JSON only: writes a string map as an object. */
  writeObject(scope: Scope, path: PartnerPath, entries: Record<string, string>): void;
}

// ---- XML -----------------------------------------------------------------------------------------

/** The one child named `name`; several where one is expected is an error, not a silent pick. */
function onlyChild(element: XmlElement, name: string, where: Where): XmlElement | undefined {
  let found: XmlElement | undefined;
  for (const child of element.children) {
    if (child.name !== name) continue;
    if (found !== undefined) throw untranslatable(`${where}: ${name} occurs more than once`);
    found = child;
  }
  return found;
}

/** The element reached by the first `count` steps, each of which must occur at most once. */
function walk(element: XmlElement, steps: readonly string[], count: number, where: Where): XmlElement | undefined {
  let current: XmlElement | undefined = element;
  for (let index = 0; index < count; index += 1) {
    current = onlyChild(current, steps[index]!, where);
    if (current === undefined) return undefined;
  }
  return current;
}

function lastChild(element: XmlElement, name: string): XmlElement | undefined {
  for (let index = element.children.length - 1; index >= 0; index -= 1) {
    if (element.children[index]!.name === name) return element.children[index];
  }
  return undefined;
}

/** Finds or creates each of the first `count` steps; the rules of one scope write an element's children in document order. */
function walkOrCreate(element: XmlElement, steps: readonly string[], count: number): XmlElement {
  let current = element;
  for (let index = 0; index < count; index += 1) {
    const step = steps[index]!;
    let next = lastChild(current, step);
    if (next === undefined) {
      next = xmlElement(step);
      current.children.push(next);
    }
    current = next;
  }
  return current;
}

export const xmlBody: BodyModel<XmlElement> = {
  missingListIsEmpty: true,
  read(scope, path, where) {
    const element = walk(scope, path.steps, path.steps.length, where);
    if (element === undefined) return undefined;
    if (path.attribute !== undefined) return element.attributes?.get(path.attribute);
    // Mixed content (<Note>不予<b>办结</b>受理</Note>): the text alone would silently drop the elements.
    const child = element.children[0];
    if (child !== undefined) throw untranslatable(`${where}: holds the element ${child.name} where only text is expected`);
    return element.text;
  },
  items(scope, path, where) {
    const parent = walk(scope, path.steps, path.steps.length - 1, where);
    const name = path.steps[path.steps.length - 1];
    const found = parent?.children.filter((child) => child.name === name) ?? [];
    return found.length === 0 ? undefined : found;
  },
  objectEntries() {
    throw new Error('an XML body has no objects; the compiler requires key and value paths');
  },
  write(scope, path, value, where) {
    const text = String(value);
    if (!isXmlText(text)) throw untranslatable(`${where}: holds a character that XML 1.0 cannot carry`);
    const element = walkOrCreate(scope, path.steps, path.steps.length);
    if (path.attribute === undefined) element.text = text;
    else (element.attributes ??= new Map()).set(path.attribute, text);
  },
  addItem(scope, path) {
    const parent = walkOrCreate(scope, path.steps, path.steps.length - 1);
    const item = xmlElement(path.steps[path.steps.length - 1]!);
    parent.children.push(item);
    return item;
  },
  writeEmptyList() {},
  writeObject() {
    throw new Error('an XML body has no objects; the compiler requires key and value paths');
  },
};

// ---- JSON ----------------------------------------------------------------------------------------

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonLookup(scope: JsonObject, steps: readonly string[], where: Where): unknown {
  let current: unknown = scope;
  for (let index = 0; index < steps.length; index += 1) {
    if (!isJsonObject(current)) throw untranslatable(`${where}: ${steps.slice(0, index).join('/')} is not an object`);
    const step = steps[index]!;
    current = Object.hasOwn(current, step) ? current[step] : undefined;
    if (current === undefined || current === null) return undefined;
  }
  return current;
}

function jsonParent(scope: JsonObject, steps: readonly string[]): { parent: JsonObject; key: string } {
  let parent = scope;
  for (let index = 0; index < steps.length - 1; index += 1) {
    const step = steps[index]!;
    const next = parent[step];
    parent = isJsonObject(next) ? next : (parent[step] = {}) as JsonObject;
  }
  return { parent, key: steps[steps.length - 1]! };
}

export const jsonBody: BodyModel<JsonObject> = {
  missingListIsEmpty: false,
  read(scope, path, where) {
    const value = jsonLookup(scope, path.steps, where);
    if (value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    throw untranslatable(`${where}: must be a string, number or boolean`);
  },
  items(scope, path, where) {
    const value = jsonLookup(scope, path.steps, where);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw untranslatable(`${where}: must be an array`);
    for (let index = 0; index < value.length; index += 1) {
      if (!isJsonObject(value[index])) throw untranslatable(`${where}[${index + 1}]: must be an object`);
    }
    return value as JsonObject[];
  },
  objectEntries(scope, path, where) {
    const value = jsonLookup(scope, path.steps, where);
    if (value === undefined) return undefined;
    if (!isJsonObject(value)) throw untranslatable(`${where}: must be an object`);
    return Object.entries(value);
  },
  write(scope, path, value) {
    const { parent, key } = jsonParent(scope, path.steps);
    parent[key] = value;
  },
  addItem(scope, path) {
    const { parent, key } = jsonParent(scope, path.steps);
    const list = Array.isArray(parent[key]) ? parent[key] as unknown[] : (parent[key] = []) as unknown[];
    const item: JsonObject = {};
    list.push(item);
    return item;
  },
  writeEmptyList(scope, path) {
    const { parent, key } = jsonParent(scope, path.steps);
    parent[key] = [];
  },
  writeObject(scope, path, entries) {
    const { parent, key } = jsonParent(scope, path.steps);
    parent[key] = { ...entries };
  },
};
