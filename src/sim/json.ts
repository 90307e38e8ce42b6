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

/** The bulky parts of a result a script may not need (a gnr-2s-interleaved trace alone is tens of MB). */
export const RESULT_PARTS = ['trace', 'cpus', 'applies', 'log', 'devices'] as const;
export type ResultPart = (typeof RESULT_PARTS)[number];

/**
 * A simulation result as JSON (schema ucode-staging/result@2, docs/result-schema.md).
 * Parts named in `omit` are left out and listed in an `omitted` field.
 */
export function resultJson(result: SimulationResult, opts: { omit?: readonly ResultPart[] } = {}): string {
  const omit = opts.omit ?? [];
  if (omit.length === 0) return toJson(result);
  const lean: Record<string, unknown> = { ...result, omitted: [...omit] };
  for (const part of omit) delete lean[part];
  return toJson(lean);
}

/** A comparison as JSON (schema ucode-staging/compare@1): the points, without the kept results. */
export function compareJson(report: CompareReport): string {
  return toJson({ schema: report.schema, points: report.points });
}
