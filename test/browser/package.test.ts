import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_MAIN, DIST, requireDist } from '../cli/built.js';

// What `npm run build` writes beside the library: the browser bundle, the CommonJS entry,
// the man page; and what `npm pack` ships.

describe('the package as built', () => {
  let app: string;

  beforeAll(() => {
    requireDist();
    // A user's project with ucode-staging installed: package.json from the repository, the build under test.
    app = mkdtempSync(join(tmpdir(), 'ucode-staging-pkg-'));
    const pkg = join(app, 'node_modules', 'ucode-staging');
    mkdirSync(pkg, { recursive: true });
    copyFileSync(resolve('package.json'), join(pkg, 'package.json'));
    symlinkSync(DIST, join(pkg, 'dist'), 'dir');
  });

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it("require('ucode-staging') says it is an ES module; import() works", () => {
    const req = spawnSync(process.execPath, ['-e', "require('ucode-staging')"], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(req.status).toBe(1);
    expect(req.stderr).toContain(
      "ucode-staging is an ES module: use import or await import('ucode-staging')",
    );
    const imp = spawnSync(
      process.execPath,
      [
        '-e',
        "import('ucode-staging').then((m) => console.log(typeof m.simulate, typeof m.format.inspectFile))",
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(imp.stderr).toBe('');
    expect(imp.stdout).toBe('function function\n');
  });

  it('the browser build is one ES module that imports nothing', () => {
    const text = readFileSync(join(DIST, 'browser', 'ucode-staging.js'), 'utf8');
    expect(text).not.toMatch(/^\s*import[\s{*"']/m);
    expect(text).not.toMatch(/\bimport\s*\(/);
    expect(text).toMatch(/export\s*\{[^}]*\bsimulate\b/);
  });

  it('the man page is the one `help --man` prints', () => {
    const man = join(DIST, 'man', 'ucode-staging.1');
    expect(existsSync(man)).toBe(true);
    const r = spawnSync(process.execPath, [BUILT_MAIN, 'help', '--man'], { encoding: 'utf8' });
    expect(readFileSync(man, 'utf8')).toBe(r.stdout);
    expect(r.stdout).toMatch(/^\.TH /m);
    expect(r.stdout).toContain('playground');
  });

  it.skipIf(DIST !== resolve('dist'))(
    'npm pack ships dist/, the man page, LICENSE, README and docs, and no tests, benchmarks or source maps',
    () => {
      const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
      for (const f of [
        'package.json',
        'LICENSE',
        'README.md',
        'docs/architecture.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/index.cjs',
        'dist/cli/main.cjs',
        'dist/cli/light.cjs',
        'dist/cli/cli.cjs',
        'dist/cli/cli.cache',
        'dist/cli/campaign-worker.js',
        'dist/cli/fleet-worker.js',
        'dist/browser/ucode-staging.js',
        'dist/playground/index.html',
        'dist/man/ucode-staging.1',
      ])
        expect(files).toContain(f);
      const unwanted = files.filter((f) =>
        /^(test|src|scripts|examples|out|dist-bench|dist-check|node_modules)\/|^dist\/bench\/|\.test\.|\.tsbuildinfo$|\.map$/.test(
          f,
        ),
      );
      expect(unwanted).toEqual([]);
    },
  );
});
