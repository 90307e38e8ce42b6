import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Layers that must run unchanged in a browser. */
const CORE_DIRS = [
  'src/format',
  'src/words',
  'src/time',
  'src/platform',
  'src/kernel',
  'src/sim',
  'src/output',
  'src/campaign',
  'src/probe',
  'src/fleet',
];
/** Core modules at the top of src/: the public entry and the zod the schemas are built with. */
const CORE_FILES = ['src/index.ts', 'src/zod.ts'];
const NODE_MODULES =
  /^(node:|fs$|path$|os$|process$|child_process$|crypto$|url$|util$|worker_threads$|perf_hooks$)/;

function* tsFiles(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [
    ...src.matchAll(
      /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
    ),
  ].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

describe('architecture', () => {
  it('the simulation core imports no Node API', () => {
    const offenders: string[] = [];
    for (const files of [...CORE_DIRS.map((d) => [...tsFiles(d)]), CORE_FILES]) {
      for (const f of files) {
        for (const spec of imports(f)) if (NODE_MODULES.test(spec)) offenders.push(`${f}: ${spec}`);
        const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        // A *-client.ts file runs in the report viewer's browser, not in the simulation: it may time its paint.
        const forbidden = f.endsWith('-client.ts')
          ? /\bprocess\.|\bBuffer\.|Math\.random/
          : /\bprocess\.|\bBuffer\.|Math\.random|Date\.now|performance\.now/;
        if (forbidden.test(src)) offenders.push(`${f}: uses a Node/wall-clock/random global`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the CLI imports project code only through the public API (src/index.ts)', () => {
    const offenders: string[] = [];
    for (const f of tsFiles('src/cli')) {
      for (const spec of imports(f)) {
        const project = spec.startsWith('.');
        const sibling = spec.startsWith('./') && !spec.slice(2).includes('/');
        if (project && !sibling && spec !== '../index.js') offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the kernel reaches the machine only through HostPort (no platform classes)', () => {
    const offenders: string[] = [];
    for (const f of tsFiles('src/kernel')) {
      for (const spec of imports(f)) {
        if (spec.includes('/platform/') && !spec.endsWith('/platform/host-port.js'))
          offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the mailbox device does not import the driver, nor the driver the device', () => {
    const device = [...tsFiles('src/platform/mailbox')].flatMap((f) =>
      imports(f).filter((s) => s.includes('kernel')),
    );
    const driver = [...tsFiles('src/kernel')].flatMap((f) => imports(f).filter((s) => s.includes('mailbox')));
    expect(device).toEqual([]);
    expect(driver).toEqual([]);
  });
});
