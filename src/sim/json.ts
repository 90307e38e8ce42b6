import type { CompareReport } from './compare.js';
import type { SimulationResult } from './result-types.js';

/**
 * The project's JSON: one space of indent (results are large; this keeps them
 * diffable without doubling their size). NaN and Infinity become null, as
 * JSON.stringify does; the objects hold no bigint by construction.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 1);
}

/** A simulation result as JSON (schema ucode-staging/result@1, docs/result-schema.md). */
export function resultJson(result: SimulationResult): string {
  return toJson(result);
}

/** A comparison as JSON (schema ucode-staging/compare@1): the points, without the kept results. */
export function compareJson(report: CompareReport): string {
  return toJson({ schema: report.schema, points: report.points });
}
