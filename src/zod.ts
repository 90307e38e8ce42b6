import { z } from 'zod/mini';

// zod for the whole project: zod/mini, the same zod 4 core as classic `zod` with
// functions in place of methods. Its schemas are about twice as quick to build and
// it bundles to half the size: most of what a CLI run spent evaluating modules.
// Every module that makes a schema takes z from here. Pure: no Node API.
//
// Mini loads no locale (classic loads English when it builds its first schema):
// English here, so every message reads as it did with classic zod. The package is
// `"sideEffects": false`, so a bundler keeps this statement only in a bundle that
// uses one of this module's own exports (a re-exported z resolves straight to
// zod/mini): every module that makes schemas uses wholeNumber or numberIn.
z.config(z.locales.en());

export { z };

/**
 * A whole number, at least `min` and at most `max` when given: classic
 * `z.number().int().min(min).max(max)` (the same checks in the same order, so
 * the same messages and JSON Schema).
 */
export function wholeNumber(min?: number, max?: number): z.ZodMiniNumber<number> {
  const checks: z.core.$ZodCheck<number>[] = [z.int()];
  if (min !== undefined) checks.push(z.minimum(min));
  if (max !== undefined) checks.push(z.maximum(max));
  return z.number().check(...checks);
}

/** A number within [min, max]: classic `z.number().min(min).max(max)`. */
export function numberIn(min: number, max: number): z.ZodMiniNumber<number> {
  return z.number().check(z.minimum(min), z.maximum(max));
}
