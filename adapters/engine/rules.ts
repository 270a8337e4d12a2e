/**
 * A compiled mapping: the document's fields flattened into rules (groups resolved into their paths), with
 * code tables, patterns and expressions already compiled. The translator only runs these.
 */
import type { Expression } from 'jsonata';
import type { Direction, MessageType } from '../../gateway/protocol/messages.ts';
import type { Charset } from './charset.ts';
import type { BodyLimits } from './hardening.ts';
import type { CanonicalPath, PartnerPath } from './paths.ts';
import type { Scalar, ScalarCodec } from './scalar.ts';
import type { Carried } from './carried.ts';
import type { Shape } from './shape.ts';

/** A partner value ⇄ a canonical value. */
export interface ValueRule {
  readonly kind: 'value';
  readonly partner: PartnerPath;
  readonly canonical: CanonicalPath;
  readonly optional: boolean;
  readonly codec: ScalarCodec;
}

/** A fixed partner value with no canonical counterpart: written out, checked coming in. */
export interface ConstRule {
  readonly kind: 'const';
  readonly partner: PartnerPath;
  readonly value: Scalar;
  readonly optional: boolean;
}

/** A partner value computed from the canonical scope (JSONata), written out only. */
export interface ComputedRule {
  readonly kind: 'computed';
  readonly partner: PartnerPath;
  readonly toPartner: Expression;
}

/** Repeated partner elements (XML) or an array (JSON) ⇄ a canonical array of objects. */
export interface EachRule {
  readonly kind: 'each';
  readonly partner: PartnerPath;
  readonly canonical: CanonicalPath;
  readonly optional: boolean;
  readonly rules: readonly MappingRule[];
}

/**
 * Key/value partner entries ⇄ a canonical string map. With `key` and `value` the entries are repeated
 * elements (XML) or objects (JSON) and these paths find the two strings in each; without them (JSON
 * only) the partner holds an object whose keys are the map's keys.
 */
export interface EntriesRule {
  readonly kind: 'entries';
  readonly partner: PartnerPath;
  readonly canonical: CanonicalPath;
  readonly optional: boolean;
  readonly entry?: { readonly key: PartnerPath; readonly value: PartnerPath };
}

/** A partner place the mapping has no use for, allowed in and dropped (shape.ts); never written. */
export interface IgnoreRule {
  readonly kind: 'ignore';
  readonly partner: PartnerPath;
}

export type MappingRule = ValueRule | ConstRule | ComputedRule | EachRule | EntriesRule | IgnoreRule;

export interface CompiledMapping {
  /** XML: the root element's name. */
  readonly root?: string;
  readonly rules: readonly MappingRule[];
  /** What a partner body may hold: the places the rules read (shape.ts). */
  readonly shape: Shape;
  /** What a canonical request may hold: the fields the rules write, and those the document drops (carried.ts). */
  readonly carried: Carried;
  /** The document's `drop`: canonical paths as keys, `name[]` stepping into a list's items. */
  readonly dropped: ReadonlyArray<readonly string[]>;
}

export type MappingKey = `${MessageType} ${Direction}`;

export interface CompiledDocument {
  readonly name: string;
  readonly mediaType: 'application/json' | 'application/xml';
  readonly charset: Charset;
  readonly limits: BodyLimits;
  /** The canonical form itself (hz-json): bodies pass through, still parsed with the JSON hardening. */
  readonly identity: boolean;
  readonly mappings: ReadonlyMap<MappingKey, CompiledMapping>;
}
