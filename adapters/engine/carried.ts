/**
 * What canonical fields a mapping carries to the partner: those its value, `each` and `entries` rules write,
 * and those its document's `drop` leaves out on purpose. A scope with a computed field is not checked.
 * A canonical request holding a field the mapping does not carry would be sent without it, and a silently
 * dropped field is a silent mistranslation (an operator's format that lost its `ywbh: applyNo` line sent
 * applications with no application number). So before an outgoing request is written, its document is held
 * to what the mapping carries; anything else is XR_TRANSLATION, named by its canonical path — the mirror of
 * the partner side's shape (shape.ts), and of the unknown-field rule of canonical validation.
 *
 * Requests only: an answer (the backend's, on its way back to a partner) answers work already done, and
 * refusing it for a field the partner's format has no place for would lose the answer (docs/mapping.md).
 *
 * Built once, when the mapping is compiled (compile.ts); checking a document walks it once.
 */
import { pathStep, type RequiredFields } from '../validation/rules.ts';
import { isJsonObject } from './body-model.ts';
import { untranslatable } from './errors.ts';
import type { MappingRule } from './rules.ts';

/** The canonical members carried in one scope (the message, or one item of an `each`). */
export interface Carried {
  readonly members: ReadonlyMap<string, CarriedMember>;
  /** The scope has a computed field: whatever is in it, at any depth, may be what the expression reads. */
  readonly open: boolean;
}

type CarriedMember =
  /** The whole value: a scalar field, a string map (`entries`), or a member the document drops. */
  | { readonly kind: 'whole' }
  /** An object some of whose members are carried (`applicant.name`, `applicant.idNumber`, …). */
  | { readonly kind: 'object'; readonly carried: Carried }
  /** A list each of whose items is carried as the `each` rule's fields say. */
  | { readonly kind: 'list'; readonly item: Carried };

interface Building {
  members: Map<string, CarriedMember>;
  open: boolean;
}

const WHOLE: CarriedMember = { kind: 'whole' };

/**
 * What the rules of one scope carry. `dropped` are canonical paths the document's `drop` names — fields the
 * partner's format has no place for, left out on purpose — as keys, `name[]` stepping into a list's items.
 */
export function carriedBy(rules: readonly MappingRule[], dropped: ReadonlyArray<readonly string[]> = []): Carried {
  const scope: Building = { members: new Map(), open: false };
  for (const rule of rules) {
    if (rule.kind === 'value' || rule.kind === 'entries') place(scope, rule.canonical.keys, WHOLE);
    else if (rule.kind === 'each') place(scope, rule.canonical.keys, { kind: 'list', item: carriedBy(rule.rules) });
    // What a JSONata expression reads cannot be told for sure from the expression (functions such as $lookup
    // or $each read the scope they are given), so a scope with a computed field is not checked at all.
    else if (rule.kind === 'computed') scope.open = true;
  }
  for (const path of dropped) place(scope, path, WHOLE);
  return scope;
}

function place(scope: Building, keys: readonly string[], member: CarriedMember): void {
  let current = scope;
  for (const key of keys.slice(0, -1)) {
    const { name, intoItems } = pathStep(key);
    const found = current.members.get(name);
    // A whole value already carries everything below it (compile.ts refuses such collisions anyway).
    if (found?.kind === 'whole') return;
    if (found !== undefined) {
      // A drop that steps into a list where the rules write an object (or the reverse) names nothing here.
      if ((found.kind === 'list') !== intoItems) return;
      current = (found.kind === 'list' ? found.item : found.carried) as Building;
      continue;
    }
    const inner: Building = { members: new Map(), open: false };
    current.members.set(name, intoItems ? { kind: 'list', item: inner } : { kind: 'object', carried: inner });
    current = inner;
  }
  const last = keys[keys.length - 1]!;
  if (current.members.get(last)?.kind !== 'whole') current.members.set(last, member);
}

/** Refuses the document if it holds a value (not null) in a member the mapping does not carry. */
export function checkCarried(carried: Carried, document: Record<string, unknown>, context: string, format: string): void {
  walk(carried, document, '', context, format);
}

function walk(carried: Carried, object: Record<string, unknown>, at: string, context: string, format: string): void {
  if (carried.open) return;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined || value === null) continue;
    const path = at === '' ? key : `${at}.${key}`;
    const member = carried.members.get(key);
    if (member === undefined) throw untranslatable(`${context}: canonical ${path} has no place in format ${format}: it would be lost`);
    if (member.kind === 'object' && isJsonObject(value)) walk(member.carried, value, path, context, format);
    if (member.kind === 'list' && Array.isArray(value)) {
      value.forEach((item, index) => {
        if (isJsonObject(item)) walk(member.item, item, `${path}[${index}]`, context, format);
      });
    }
  }
}

/**
 * The required canonical fields (adapters/validation) a mapping neither maps (a value, `each` or `entries`
 * field: both ways) nor drops, as paths (`applyNo`, `materials[].sha256`): a document missing one cannot read
 * one message of its kind that the canonical form accepts, and would write every one without it — refused when
 * it is put (registry.ts), not found out message by message. A computed field does not count: it is only
 * written, never read.
 */
export function requiredNotCarried(carried: Carried, required: RequiredFields, at = ''): string[] {
  const missing: string[] = [];
  for (const [key, below] of required.members) {
    const path = at === '' ? key : `${at}.${key}`;
    const member = carried.members.get(key);
    if (member === undefined) missing.push(path);
    else if (member.kind === 'object') missing.push(...requiredNotCarried(member.carried, below, path));
    else if (member.kind === 'list') missing.push(...requiredNotCarried(member.item, below, `${path}[]`));
  }
  return missing;
}
