import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { OUTPUT_SCHEMAS } from '../../src/schemas/index.js';
import type { z } from '../../src/zod.js';
import { type CliRun, runCliInProcess } from '../support/run-cli.js';
import { jsonSchemaProblems } from './json-schema-check.js';

/** `ucode-staging ARGS` in process, through the same dispatcher as the binary. */
export function cli(...args: string[]): Promise<CliRun> {
  return runCliInProcess(args);
}

const files = new Map<string, boolean | Record<string, unknown>>();

/** The published file (schemas/NAME.schema.json) of a zod output schema, parsed. */
function publishedSchema(schema: z.ZodMiniType): boolean | Record<string, unknown> {
  const entry = OUTPUT_SCHEMAS.find((s) => s.zod === schema);
  if (!entry) throw new Error('not a published output schema');
  let json = files.get(entry.file);
  if (json === undefined) {
    json = JSON.parse(
      readFileSync(new URL(`../../schemas/${entry.file}`, import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    files.set(entry.file, json);
  }
  return json;
}

/**
 * The JSON text validates against the zod schema and against the published
 * JSON Schema file made from it; on failure the first issues, with their paths.
 */
export function expectValid(schema: z.ZodMiniType, text: string, what: string): unknown {
  const doc: unknown = JSON.parse(text);
  const r = schema.safeParse(doc);
  const issues = r.success
    ? []
    : r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`);
  expect(issues, `${what} (zod)`).toEqual([]);
  expect(jsonSchemaProblems(publishedSchema(schema), doc).slice(0, 5), `${what} (JSON Schema file)`).toEqual(
    [],
  );
  return doc;
}

/**
 * The zod issues' paths when `doc` does not validate (empty when it does); the
 * published JSON Schema file must agree on whether it does.
 */
export function issuePaths(schema: z.ZodMiniType, doc: unknown): string[] {
  const r = schema.safeParse(doc);
  const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  expect(jsonSchemaProblems(publishedSchema(schema), doc).length > 0, 'the JSON Schema file agrees').toBe(
    paths.length > 0,
  );
  return paths;
}
