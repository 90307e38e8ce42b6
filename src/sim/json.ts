import { hex } from '../format/hex.js';
import type { CompareReport } from './compare.js';
import type { SimulationResult } from './result-types.js';

/**
 * Fields that every JSON output prints as hex strings ("0x10003f0"), wherever
 * they are: revisions, signatures, platform masks, checksums, MSR values and
 * physical addresses. Decimal revisions break the obvious `jq` use
 * (`select(.revision == "0x10003f0")`). In memory they stay numbers.
 */
export const HEX_JSON_FIELDS: ReadonlySet<string> = new Set([
  'signature',
  'platformFlags',
  'processorFlags',
  'revision',
  'revisionBefore',
  'revisionAfter',
  'stagedRevision',
  'initialRevision',
  'minRequiredRevision',
  'checksum',
  'dateRaw',
  'mailboxPa',
  'base',
  'stride',
  'undecodedRead',
  'lowMemory',
  'msrValue',
  'address',
  // `revision: { old, new }`: the only objects with these keys.
  'old',
  'new',
]);

function hexValue(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return hex(value);
  if (Array.isArray(value)) return value.map(hexValue);
  return value;
}

/**
 * The project's JSON: one space of indent (results are large; this keeps them
 * diffable without doubling their size), HEX_JSON_FIELDS as hex strings. NaN
 * and Infinity become null, as JSON.stringify does; the objects hold no bigint
 * by construction.
 */
export function toJson(value: unknown, indent = 1): string {
  return JSON.stringify(value, (key, v) => (HEX_JSON_FIELDS.has(key) ? hexValue(v) : v), indent);
}

/** JSON the project wrote, read back: HEX_JSON_FIELDS' hex strings become numbers again. */
export function fromJson(text: string): unknown {
  const number = (v: unknown): unknown =>
    typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v) ? Number(v) : Array.isArray(v) ? v.map(number) : v;
  return JSON.parse(text, (key, v) => (HEX_JSON_FIELDS.has(key) ? number(v) : v));
}

/** A simulation result as JSON (schema ucode-staging/result@2, docs/result-schema.md). */
export function resultJson(result: SimulationResult): string {
  return toJson(result);
}

/** A comparison as JSON (schema ucode-staging/compare@1): the points, without the kept results. */
export function compareJson(report: CompareReport): string {
  return toJson({ schema: report.schema, points: report.points });
}
