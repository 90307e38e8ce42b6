#!/usr/bin/env node
// `npm run schemas`: the JSON Schema files of the JSON outputs, into schemas/.
//
//   node scripts/schemas.mjs           write schemas/*.schema.json (and remove stale ones)
//   node scripts/schemas.mjs --check   exit 1 if a file differs from what would be written
//
// The schemas are made by src/schemas (zod schemas of the JSON on the wire,
// z.toJSONSchema). That module is bundled in memory with rolldown, so no build of
// dist/ is needed; the output depends on the sources only.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'schemas');
const check = process.argv.includes('--check');

const bundle = await rolldown({ input: join(ROOT, 'src', 'schemas', 'index.ts'), logLevel: 'silent' });
const { output } = await bundle.generate({ format: 'esm' });
await bundle.close();
const code = output[0].code;
const { jsonSchemaFiles } = await import(
  `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
);

const files = jsonSchemaFiles();
const wanted = new Set(files.map((f) => f.file));
const present = existsSync(OUT) ? readdirSync(OUT).filter((n) => n.endsWith('.schema.json')) : [];
const stale = [];
for (const { file, text } of files) {
  const path = join(OUT, file);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
  stale.push(file);
  if (!check) {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(path, text);
  }
}
for (const name of present) {
  if (wanted.has(name)) continue;
  stale.push(`${name} (not a published schema)`);
  if (!check) rmSync(join(OUT, name));
}

if (check) {
  if (stale.length) {
    console.error(`schemas: out of date: ${stale.join(', ')}; run npm run schemas`);
    process.exit(1);
  }
  console.log(`schemas: ${files.length} files up to date`);
} else {
  console.log(`schemas: ${files.length} files in schemas/ (${stale.length} written or removed)`);
}
