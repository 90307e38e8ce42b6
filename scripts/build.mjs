#!/usr/bin/env node
// `npm run build`: everything the package ships, into dist/ (or --outdir DIR).
//
//   tsc       dist/**/*.d.ts: the library's types, module by module
//   rolldown  dist/index.js: the library as ONE minified ES module for Node (zod included)
//   rolldown  dist/cli/: the bin (main.cjs); the CLI as chunks (light.cjs) for light commands and
//             as one script (cli.cjs) that model commands run with a V8 code cache
//             (cli.cache) a default run made at build time; the worker threads
//   rolldown  dist/browser/ucode-staging.js: the library as ONE minified ES module for browsers
//   rolldown  dist/playground/: the browser playground, a folder any static host can serve
//
// Why rolldown: it tree-shakes the library's barrel (src/index.ts) per chunk, so a command
// loads only the modules it uses (inspect never loads the simulator or zod), and it keeps
// of zod only the parts the schemas use. esbuild put every module reachable from the barrel
// into one shared chunk that even --version loaded.
//             dist/index.cjs: what `require('ucode-staging')` gets (a clear error)
//             dist/man/ucode-staging.1: `ucode-staging help --man`
//
// The build goes to a fresh sibling folder that replaces the old one at the end, so a
// half-built dist/ is never seen and no file of an earlier build survives.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';

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

/** Bundle `input` (name -> source) into `dir` with rolldown. */
// Every bundle is minified, function and class names kept (stack traces stay readable): in
// paired runs of `simulate -q` the minified CLI used about 20 % less CPU than the same
// bundle unminified (less source to scan and compile before the first line runs).
async function bundle(input, dir, { platform, chunks = false, format = 'esm' }) {
  const b = await rolldown({
    input,
    cwd: ROOT,
    platform,
    // yaml stays a dependency loaded from node_modules, only for a YAML input file.
    external: platform === 'node' ? [/^node:/, 'yaml'] : [],
    logLevel: 'warn',
    onLog(_level, log) {
      // A circular import among zod's own modules is zod's business, not ours.
      if (log.code === 'CIRCULAR_DEPENDENCY') return;
      throw new Error(log.message);
    },
  });
  const out = await b.write({
    dir,
    format,
    minify: true,
    keepNames: true,
    entryFileNames: format === 'cjs' ? '[name].cjs' : '[name].js',
    chunkFileNames: `${chunks ? 'chunk-[hash]' : '[name]-[hash]'}.${format === 'cjs' ? 'cjs' : 'js'}`,
    // CommonJS has no import() that Node's module loader does not serve: each becomes a
    // require() of its chunk, or, in one file (a vm.Script has no import() at all), a
    // lazily run function.
    ...(format === 'cjs' ? { dynamicImportInCjs: false, ...(chunks ? {} : { codeSplitting: false }) } : {}),
  });
  await b.close();
  for (const f of out.output)
    if (format === 'esm' && f.type === 'chunk' && /\b__require\(/.test(f.code))
      throw new Error(
        `${f.fileName} calls require(), which fails in an ES module: keep that package external`,
      );
  return out;
}

// 1. The library's types, one .d.ts per source file (the package's "types" entry).
await step('tsc: declarations', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', stage, '--emitDeclarationOnly'],
    { stdio: 'inherit', cwd: ROOT },
  );
  if (r.status !== 0) throw new Error(`tsc exited with status ${r.status}`);
});

// 2. The library for Node (the package's "import" entry): one module, so importing it
// reads one file instead of a few hundred.
await step('rolldown: library', () => bundle({ index: 'src/index.ts' }, stage, { platform: 'node' }));

// 3. The CLI, all CommonJS (Node's ES module loader and the internal modules it loads were
// 10-30 ms of every start): the bin (main.cjs, src/cli/bin.ts); cli.cjs, one script (every
// command, each module run only when its command needs it), which the bin runs with a V8
// code cache for the commands that run the model; and light.cjs with a chunk per command for
// the others (help, inspect), which load less than the cache. The worker threads are ES
// modules. The worker threads are ES modules. All
// sit in dist/cli, so `new URL('./campaign-worker.js', import.meta.url)` and
// `new URL('../../package.json', import.meta.url)` resolve from any of them.
await step('rolldown: CLI', async () => {
  const cli = join(stage, 'cli');
  await bundle({ cli: 'src/cli/main.ts' }, cli, { platform: 'node', format: 'cjs' });
  await bundle({ main: 'src/cli/bin.ts' }, cli, { platform: 'node', format: 'cjs' });
  // `node dist/cli/main.js` (the bin's old name) still works: it runs the bin, after the
  // ES module loader's few milliseconds.
  writeFileSync(
    join(cli, 'main.js'),
    `#!/usr/bin/env node\n// The bin is main.cjs (it starts without the ES module loader); this runs it.\nimport './main.cjs';\n`,
  );
  await bundle({ light: 'src/cli/main.ts' }, cli, { platform: 'node', format: 'cjs', chunks: true });
  await bundle(
    {
      'load-cli': 'src/cli/load-cli.ts',
      'campaign-worker': 'src/cli/campaign-worker.ts',
      'fleet-worker': 'src/cli/fleet-worker.ts',
    },
    cli,
    { platform: 'node', chunks: true },
  );
});

// 3b. The CLI's code cache: a default run compiles what the model commands share; the cache
// holds it, so a run starts without compiling it again (load-cli.ts). Made by the Node that
// builds, it is used only by the same Node version and flags (V8 checks).
await step('CLI code cache', () => {
  const loader = pathToFileURL(join(stage, 'cli', 'load-cli.js')).href;
  const program = `const { writeCodeCache } = await import(${JSON.stringify(loader)});
await writeCodeCache(${JSON.stringify(join(stage, 'cli'))}, (cli) => cli.main(['simulate', '-q']).then(() => undefined));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
    cwd: ROOT,
    env: { ...process.env, UCODE_STAGING_FIRMWARE_DIR: join(stage, 'no-firmware'), NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(join(stage, 'cli', 'cli.cache')))
    throw new Error(`the cache run exited with status ${r.status}`);
});

// 4. The library for browsers: one ES module, no bare imports left (no import map needed).
await step('rolldown: browser bundle', () =>
  bundle({ 'ucode-staging': 'src/index.ts' }, join(stage, 'browser'), { platform: 'browser' }),
);

// 5. The playground: a static folder (page, worker, shared chunk, HTML, CSS).
await step('rolldown: playground', async () => {
  const dir = join(stage, 'playground');
  await bundle({ playground: 'src/playground/page.ts', worker: 'src/playground/worker.ts' }, dir, {
    platform: 'browser',
    chunks: true,
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(ROOT, 'src', 'playground', f), join(dir, f));
});

// 6. `require('ucode-staging')`: the package is ESM only; say so instead of a resolution error.
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

// 7. The man page, generated by the CLI it documents.
await step('man page', () => {
  const r = spawnSync(process.execPath, [join(stage, 'cli', 'main.cjs'), 'help', '--man'], {
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
