import { wholeNumber, z } from '../zod.js';

// Building blocks of the output schemas: the JSON as it is on the wire, not the
// objects in memory. Revisions, signatures and addresses are hex strings
// (HEX_JSON_FIELDS in src/sim/json.ts), a time never reached is null (NaN in
// memory), and every object is strict, so a field nobody documented fails.
// Pure: no Node API (the browser bundle carries it too).

/**
 * Where the descriptions, titles and $defs names of the output schemas live. A
 * private registry: the project's own zod schemas (PolicySchema, ...) are
 * described here without touching zod's global one.
 */
export const outputRegistry = z.registry<{ id?: string; title?: string; description?: string }>();

/**
 * JSON Schema keywords a zod schema cannot say, added to the generated schema
 * of that zod schema (the zod side says the same with a refinement).
 */
export const jsonSchemaExtras = new Map<unknown, Record<string, unknown>>();

/** A copy of `schema` with a description (a copy: shared schemas like Count stay undescribed). */
export function doc<T extends z.ZodMiniType>(schema: T, description: string): T {
  const copy = schema.clone() as T;
  outputRegistry.add(copy, { description });
  return copy;
}

/** `schema` as a named definition (`$defs/<id>`) of the JSON Schema files. */
export function def<T extends z.ZodMiniType>(id: string, schema: T, description: string): T {
  outputRegistry.add(schema, { id, description });
  return schema;
}

/** "0x10003f0": `0x` and lower-case hex digits, as `hex()` in src/format writes them. */
export const Hex = def(
  'hex',
  z.string().check(z.regex(/^0x[0-9a-f]+$/)),
  'A revision, signature, platform mask, MSR value or physical address as a hex string ("0x10003f0"); fromJson() reads it back as a number.',
);

/** A whole number that counts something (CPUs, bytes, chunks, runs). */
export const Count = wholeNumber(0);

/** Virtual nanoseconds since boot, or a duration in ns. Fractions are possible (fractional costs). */
export const Ns = z.number();

/** A time or duration that may never have been reached: null (NaN in memory). */
export const NsOrNull = def(
  'nsOrNull',
  z.nullable(z.number()),
  'Virtual nanoseconds, or null where the run never got there (NaN in memory).',
);

/**
 * A string enum whose values must be exactly the members of the union `T`:
 * `exactly<LoadOutcome>()([...])` does not compile when a value is missing or
 * unknown. For types that have no runtime list of their values.
 */
export function exactly<T extends string>() {
  return <const V extends readonly [T, ...T[]]>(
    values: V & ([Exclude<T, V[number]>] extends [never] ? unknown : { missing: Exclude<T, V[number]> }),
  ): z.ZodMiniEnum<{ [K in V[number]]: K }> => z.enum(values as V);
}

type Shape = Record<string, z.ZodMiniType>;

/**
 * An input schema of the project (fields with defaults) as the wire holds it:
 * every default filled in, so every field is required; nested objects too.
 * Objects come back strict (the project's are).
 */
export function filled(schema: z.ZodMiniType): z.ZodMiniType {
  if (schema instanceof z.ZodMiniDefault) return filled(schema.def.innerType as z.ZodMiniType);
  if (schema instanceof z.ZodMiniObject) return z.strictObject(mapShape(schema.shape as Shape, filled));
  if (schema instanceof z.ZodMiniDiscriminatedUnion) {
    const { options, discriminator } = schema._zod.def;
    const filledOptions = (options as readonly z.ZodMiniType[]).map(filled) as [
      z.ZodMiniObject,
      ...z.ZodMiniObject[],
    ];
    return z.discriminatedUnion(discriminator, filledOptions);
  }
  return schema;
}

/** Each field of a `z.partial()` object, required. */
export function required(schema: z.ZodMiniObject): z.ZodMiniObject {
  return z.strictObject(
    mapShape(schema.shape as Shape, (s) =>
      s instanceof z.ZodMiniOptional ? (s.def.innerType as z.ZodMiniType) : s,
    ),
  );
}

export function mapShape(shape: Shape, f: (s: z.ZodMiniType, key: string) => z.ZodMiniType): Shape {
  return Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, f(s, k)]));
}
