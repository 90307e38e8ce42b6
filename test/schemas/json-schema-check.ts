// A small JSON Schema (draft 2020-12) validator for the keywords the published
// schemas use, so the tests check the files users get, not only the zod schemas
// they were made from. It throws on a keyword it does not know: a new one must
// be taught here before it is trusted.

type Schema = boolean | { [keyword: string]: unknown };

const ANNOTATIONS = new Set(['$schema', '$id', '$defs', 'title', 'description', 'default']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  '$ref',
  'type',
  'const',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'contains',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'if',
  'then',
  'else',
]);

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'null':
      return v === null;
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      throw new Error(`unknown type ${type}`);
  }
}

/** The problems of `value` against `schema` (empty: valid), each as `path: what`. */
export function jsonSchemaProblems(root: Schema, value: unknown): string[] {
  const problems: string[] = [];
  const check = (schema: Schema, v: unknown, path: string): boolean => {
    const before = problems.length;
    const fail = (what: string) => problems.push(`${path || '/'}: ${what}`);
    if (schema === true) return true;
    if (schema === false) {
      fail('not allowed');
      return false;
    }
    for (const k of Object.keys(schema))
      if (!KNOWN.has(k)) throw new Error(`unknown keyword ${k} at ${path}`);
    const s = schema as Record<string, unknown>;
    /** Whether `value` matches `sub`, without reporting its problems. */
    const quiet = (sub: Schema, value: unknown = v, at = path): boolean => {
      const saved = problems.length;
      const ok = check(sub, value, at);
      problems.length = saved;
      return ok;
    };
    if (typeof s.$ref === 'string') {
      const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
      const target = m
        ? ((root as Record<string, Record<string, Schema>>).$defs?.[m[1]!] ?? undefined)
        : undefined;
      if (target === undefined) throw new Error(`unresolved $ref ${s.$ref}`);
      check(target, v, path);
    }
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => typeOk(t, v))) fail(`expected ${types.join(' or ')}`);
    }
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v))
      fail(`expected ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
      fail(`not one of ${JSON.stringify(s.enum)}`);
    if (typeof v === 'string') {
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v))
        fail(`does not match ${s.pattern}`);
      const length = [...v].length;
      if (typeof s.minLength === 'number' && length < s.minLength) fail('too short');
      if (typeof s.maxLength === 'number' && length > s.maxLength) fail('too long');
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) fail(`below ${s.minimum}`);
      if (typeof s.maximum === 'number' && v > s.maximum) fail(`above ${s.maximum}`);
    }
    if (typeOk('object', v)) {
      const o = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in o)) fail(`missing ${r}`);
      for (const [k, sub] of Object.entries(o)) {
        if (k in props) check(props[k]!, sub, `${path}/${k}`);
        else if (s.additionalProperties !== undefined)
          check(s.additionalProperties as Schema, sub, `${path}/${k}`);
        if (s.propertyNames !== undefined) check(s.propertyNames as Schema, k, `${path}/${k} (name)`);
      }
    }
    if (Array.isArray(v)) {
      const prefix = (s.prefixItems ?? []) as Schema[];
      v.forEach((item, i) => {
        if (i < prefix.length) check(prefix[i]!, item, `${path}/${i}`);
        else if (s.items !== undefined) check(s.items as Schema, item, `${path}/${i}`);
      });
      if (typeof s.minItems === 'number' && v.length < s.minItems) fail('too few items');
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) fail('too many items');
      if (s.contains !== undefined && !v.some((item, i) => quiet(s.contains as Schema, item, `${path}/${i}`)))
        fail('contains no matching item');
    }
    if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) check(sub, v, path);
    if (Array.isArray(s.anyOf) && !(s.anyOf as Schema[]).some((sub) => quiet(sub))) fail('matches no anyOf');
    if (Array.isArray(s.oneOf) && (s.oneOf as Schema[]).filter((sub) => quiet(sub)).length !== 1)
      fail('does not match exactly one oneOf');
    if (s.not !== undefined && quiet(s.not as Schema)) fail('matches not');
    if (s.if !== undefined) {
      if (quiet(s.if as Schema)) {
        if (s.then !== undefined) check(s.then as Schema, v, path);
      } else if (s.else !== undefined) check(s.else as Schema, v, path);
    }
    return problems.length === before;
  };
  check(root, value, '');
  return problems;
}
