import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HEX_JSON_FIELDS } from '../../src/index.js';
import { jsonSchemaFiles, jsonSchemaOf, OUTPUT_SCHEMAS, schemaId } from '../../src/schemas/index.js';

// The committed schemas/ folder is what `npm run schemas` writes from src/schemas.

const DIR = new URL('../../schemas/', import.meta.url);
const SRC = new URL('../../src/schemas/', import.meta.url);

describe('schemas/: the published JSON Schema files', () => {
  it('are what the generator writes (run `npm run schemas` after changing src/schemas)', () => {
    const files = jsonSchemaFiles();
    const committed = readdirSync(DIR).filter((n) => n.endsWith('.json'));
    expect(committed.sort()).toEqual(files.map((f) => f.file).sort());
    for (const { file, text } of files) expect(readFileSync(new URL(file, DIR), 'utf8'), file).toBe(text);
  });

  it('ship in the package (package.json "files")', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      files: string[];
    };
    expect(pkg.files).toContain('schemas');
  });

  it('are deterministic: generated twice, byte for byte the same', () => {
    expect(jsonSchemaFiles()).toEqual(jsonSchemaFiles());
  });

  it.each(OUTPUT_SCHEMAS.map((s) => [s.file, s] as const))(
    '%s: $id, title, description, draft 2020-12',
    (_f, s) => {
      const json = jsonSchemaOf(s);
      expect(Object.keys(json).slice(0, 4)).toEqual(['$schema', '$id', 'title', 'description']);
      expect(json.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(json.$id).toBe(schemaId(s.name));
      expect(json.$id).toMatch(/^urn:ucode-staging:[a-z-]+@\d+$/);
      expect(String(json.title)).not.toBe('');
      expect(String(json.description)).not.toBe('');
      expect(json.additionalProperties).toBe(false);
      // Every $ref points at a definition that exists.
      const defs = (json.$defs ?? {}) as Record<string, unknown>;
      for (const ref of JSON.stringify(json).matchAll(/"\$ref":"#\/\$defs\/([^"]+)"/g))
        expect(defs).toHaveProperty(ref[1]!);
    },
  );

  it('the `schema` field of each is its name (the campaign report also takes the name it still prints)', () => {
    for (const s of OUTPUT_SCHEMAS) {
      const field = (jsonSchemaOf(s).properties as Record<string, { const?: string; enum?: string[] }>)
        .schema!;
      expect(field.const ?? field.enum?.[0], s.file).toBe(s.name);
    }
  });
});

/** Each property of a JSON Schema, with its path: [path, name, schema]. */
function* properties(node: unknown, path = ''): Generator<[string, string, Record<string, unknown>]> {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) yield* properties(n, `${path}/${i}`);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      for (const [name, s] of Object.entries(value)) {
        yield [`${path}/${name}`, name, s as Record<string, unknown>];
        yield* properties(s, `${path}/${name}`);
      }
    } else yield* properties(value, `${path}/${key}`);
  }
}

const isHex = (s: Record<string, unknown>): boolean => JSON.stringify(s).includes('"#/$defs/hex"');

describe('hex fields: the schemas agree with HEX_JSON_FIELDS', () => {
  it.each([
    'result.schema.json',
    'compare.schema.json',
    'campaign.schema.json',
    'campaign-part.schema.json',
    'inspect.schema.json',
  ])('%s: a property is a hex string exactly when toJson() prints its name as one', (file) => {
    const json = jsonSchemaOf(OUTPUT_SCHEMAS.find((s) => s.file === file)!);
    for (const [path, name, s] of properties(json)) {
      const nested = s.type === 'object' || JSON.stringify(s).includes('"properties"');
      if (nested) continue;
      expect(isHex(s), `${file} ${path}`).toBe(HEX_JSON_FIELDS.has(name));
    }
  });

  it('probe.schema.json: the probe prints its own hex strings, and its machine file with numbers', () => {
    const json = jsonSchemaOf(OUTPUT_SCHEMAS.find((s) => s.file === 'probe.schema.json')!);
    const hexNames = new Set<string>();
    for (const [, name, s] of properties(json))
      if (isHex(s) && !JSON.stringify(s).includes('"properties"')) hexNames.add(name);
    // Probe-only names (msr, value, cpu0, ...) are hex strings too; HEX_JSON_FIELDS does not list them.
    expect([...hexNames].sort()).toEqual(
      [
        'address',
        'cpu0',
        'currentRevision',
        'minRequiredRevision',
        'msr',
        'requiredRevision',
        'revision',
        'signature',
        'value',
      ].sort(),
    );
    const machine = JSON.stringify((json.$defs as Record<string, unknown>).numericMachineFile);
    expect(machine).not.toContain('#/$defs/hex');
  });
});

describe('src/schemas', () => {
  it('uses no Node API (it ships in the browser bundle)', () => {
    for (const name of readdirSync(SRC)) {
      const text = readFileSync(new URL(name, SRC), 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports)
        expect(spec.startsWith('.') || spec === 'zod', `${name}: ${spec}`).toBe(true);
    }
  });
});
