#!/usr/bin/env node
// `npm run build`: everything the package ships, into dist/ (or --outdir DIR).
//
//   tsc       dist/index.js + .d.ts: the library, module by module (and the CLI's modules)
//   esbuild   dist/cli/main.js + campaign-worker.js: the CLI as a few files (lazy command chunks)
//   esbuild   dist/browser/ucode-staging.js: the library as ONE ES module, zod included
//   esbuild   dist/playground/: the browser playground, a folder any static host can serve
//             dist/index.cjs: what `require('ucode-staging')` gets (a clear error)
//             dist/man/ucode-staging.1: `ucode-staging help --man`
//
// The build goes to a fresh sibling folder that replaces the old one at the end, so a
// half-built dist/ is never seen and no file of an earlier build survives.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outdir');
const out = resolve(at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : join(ROOT, 'dist'));
const stage = join(dirname(out), `${basename(out)}.build-${process.pid}`);
const started = performance.now();

function fail(message) {
  rmSync(stage, { recursive: true, force: true });
  console.error(`build: ${message}`);
  process.exit(1);
}

function step(what, f) {
  const t = performance.now();
  return Promise.resolve()
    .then(f)
    .then(
      (v) => {
        console.log(`build: ${what} (${Math.round(performance.now() - t)} ms)`);
        return v;
      },
      (err) => fail(`${what} failed: ${err instanceof Error ? err.message : String(err)}`),
    );
}

// Folders left by a build that was killed (its process is gone).
for (const name of readdirSync(dirname(out))) {
  const m = new RegExp(
    `^${basename(out).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:build|old)-(\\d+)$`,
  ).exec(name);
  if (m && !alive(Number(m[1]))) rmSync(join(dirname(out), name), { recursive: true, force: true });
}
mkdirSync(stage, { recursive: true });

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// 1. The library and its types, one module per source file (the package's "import" entry).
await step('tsc: library and declarations', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', stage], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  if (r.status !== 0) throw new Error(`tsc exited with status ${r.status}`);
});

// 2. The CLI: the bin and the campaign worker thread as entries, every dependency bundled,
// each command (and yaml) a chunk loaded by its dynamic import only when it runs. Chunks sit
// beside main.js so `new URL('./campaign-worker.js', import.meta.url)` and
// `new URL('../../package.json', import.meta.url)` resolve as in the unbundled build.
await step('esbuild: CLI bundle', async () => {
  const cli = join(stage, 'cli');
  // tsc's main.js/campaign-worker.js (and their maps) are replaced by the bundles.
  for (const f of ['main.js', 'main.js.map', 'campaign-worker.js', 'campaign-worker.js.map'])
    rmSync(join(cli, f), { force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts', 'campaign-worker': 'src/cli/campaign-worker.ts' },
    outdir: cli,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunk-[hash]',
    // yaml stays a dependency loaded from node_modules (only for a YAML machine file): its
    // Node build is CommonJS, which an ES module bundle could only reach through require().
    external: ['yaml'],
    logLevel: 'warning',
  });
  const chunks = readdirSync(cli).filter((f) => f.startsWith('chunk-') || f === 'main.js');
  for (const f of chunks)
    if (readFileSync(join(cli, f), 'utf8').includes('__require('))
      throw new Error(`${f} calls require(), which fails in an ES module: keep that package external`);
});

// 3. The library for browsers: one ES module, no bare imports left (no import map needed).
await step('esbuild: browser bundle', () =>
  build({
    absWorkingDir: ROOT,
    entryPoints: { 'ucode-staging': 'src/index.ts' },
    outdir: join(stage, 'browser'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    keepNames: true,
    logLevel: 'warning',
  }),
);

// 4. The playground: a static folder (page, worker, shared chunk, HTML, CSS).
await step('esbuild: playground', async () => {
  const dir = join(stage, 'playground');
  await build({
    absWorkingDir: ROOT,
    entryPoints: { playground: 'src/playground/page.ts', worker: 'src/playground/worker.ts' },
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    chunkNames: 'chunk-[hash]',
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(ROOT, 'src', 'playground', f), join(dir, f));
});

// 5. `require('ucode-staging')`: the package is ESM only; say so instead of a resolution error.
await step('CommonJS entry', () =>
  writeFileSync(
    join(stage, 'index.cjs'),
    `'use strict';
// The "require" condition of package.json's exports: ucode-staging is an ES module.
const err = new Error("ucode-staging is an ES module: use import or await import('ucode-staging')");
err.code = 'ERR_REQUIRE_ESM';
throw err;
`,
  ),
);

// 6. The man page, generated by the CLI it documents.
await step('man page', () => {
  const r = spawnSync(process.execPath, [join(stage, 'cli', 'main.js'), 'help', '--man'], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  if (r.status !== 0 || !r.stdout.startsWith('.'))
    throw new Error(`help --man exited with status ${r.status}: ${r.stderr.trim()}`);
  mkdirSync(join(stage, 'man'), { recursive: true });
  writeFileSync(join(stage, 'man', 'ucode-staging.1'), r.stdout);
});

// Swap the new build in.
const old = join(dirname(out), `${basename(out)}.old-${process.pid}`);
if (existsSync(out)) renameSync(out, old);
renameSync(stage, out);
rmSync(old, { recursive: true, force: true });
console.log(`build: ${out} in ${Math.round(performance.now() - started)} ms`);
