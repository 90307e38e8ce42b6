import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// src/campaign runs in a browser like the simulator it drives: no Node API, no
// process, no file system (the CLI does the files). Beyond what biome's
// noRestrictedImports and test/architecture.test.ts check for every core folder,
// the campaign also takes no package and nothing from the CLI.

const DIR = 'src/campaign';
const NODE = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

describe('src/campaign is browser-safe', () => {
  for (const name of readdirSync(DIR).filter((n) => n.endsWith('.ts'))) {
    it(name, () => {
      const text = readFileSync(join(DIR, name), 'utf8');
      const imports = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map(
        (m) => m[1] ?? m[2]!,
      );
      expect(imports.filter((spec) => NODE.has(spec) || spec.startsWith('node:'))).toEqual([]);
      expect(imports.filter((spec) => !spec.startsWith('.'))).toEqual([]);
      expect(imports.filter((spec) => spec.includes('/cli/'))).toEqual([]);
      expect(text).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(|\bconsole\./);
    });
  }
});
