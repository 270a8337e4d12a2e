/**
 * The two ways the engine refuses: a partner format document that cannot be compiled (an operator's
 * mistake, reported with the place in the document), and a message that cannot be parsed or translated
 * (an XrError with a PROTOCOL §5 code).
 */
import { XrError } from '../../gateway/protocol/errors.ts';

/** A mapping document that does not compile; `where` is the path inside the document, e.g. `codeTables.idType`. */
export class FormatDocumentError extends XrError {
  readonly where: string;
  readonly problem: string;

  constructor(where: string, problem: string) {
    super('XR_BAD_REQUEST', `${where === '' ? '(document)' : where}: ${problem}`);
    this.name = 'FormatDocumentError';
    this.where = where;
    this.problem = problem;
  }
}

/**
 * The place an error detail names, e.g. `zj-xml application.submit request: RECORDS/RECORD/MEMO (canonical
 * message)`: text, or an object that spells it out only when a detail is written. Messages translate without
 * error far more often than not, so the translator hands out places unspelt (translate.ts).
 */
export interface Where {
  toString(): string;
}

/** The body cannot be read at all: bad bytes, bad JSON/XML, refused constructs, over the limits. */
export function malformed(detail: string): XrError {
  return new XrError('XR_MALFORMED', detail);
}

/** The body was read but does not fit the mapping, or a canonical document cannot be expressed by it. */
export function untranslatable(detail: string): XrError {
  return new XrError('XR_TRANSLATION', detail);
}
